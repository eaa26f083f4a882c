"""What one rerun of each page costs the server, on a big workshop (prints a Markdown table).

    .venv/bin/python benchmarks/pages.py [--issues 2000] [--groups 20] [--runs 30] [--pages a,b]

Seeds a SQLite file with benchmarks/seed.py (20 groups, 2,000 issues, themes, votes,
recommendations), then runs each page script with Streamlit's AppTest as the role that
uses it, in the phase it is used in: one warm-up run, then `--runs` timed reruns of the
same session (what a click or a fragment refresh costs). A one-line page (`st.write("x")`)
measured in the same run is the floor: AppTest's own cost and Streamlit's per-run work;
a skeleton of the group page (its widgets, no data) shows what drawing that page costs.
CPU is this process's CPU time per rerun: steadier than wall time on a shared machine.
`--profile PAGE` prints a cProfile of that page's reruns instead.
"""

from __future__ import annotations

import argparse
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file is called pages.py: its own folder must not shadow the app's `pages` package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
# Stored vectors and duplicate hints both come from the fast lexical backend, so a
# model's first load does not land in a page's timing (override to measure a model).
os.environ.setdefault("ROUNDTABLE_EMBEDDINGS", "lexical")

from streamlit.runtime.scriptrunner.script_cache import ScriptCache  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1 import app_test as _app_test  # noqa: E402

from benchmarks.figures import percentile  # noqa: E402
from benchmarks.seed import seed_workshop  # noqa: E402
from models import db, phases, workshops  # noqa: E402
from models.access import PAGE_ROLES, Identity  # noqa: E402
from models.schema import Phase, Role  # noqa: E402

# AppTest compiles the page script again on every run (a new ScriptCache each time); the
# server compiles each page once per process (one ScriptCache in its Runtime). Share one
# here as the server does, so a figure is a rerun's cost and not a compilation's.
_SCRIPTS = ScriptCache()
_app_test.ScriptCache = lambda: _SCRIPTS  # type: ignore[attr-defined,assignment]

PAGES_DIR = ROOT / "pages"
FLOOR = "one-line page"
SKELETON = "group page skeleton"
# The group page's elements without any data or database: ten issue cards (text, caption,
# one button) and the entry form. What Streamlit alone needs to draw that page.
SKELETON_PAGE = """import streamlit as st
st.title("t")
st.caption("c")
left, right = st.columns([5, 6])
with left:
    st.subheader("s")
    with st.form("f"):
        st.selectbox("d", [1, 2, 3, 4], key="s")
        for k in "abcd":
            st.text_area(k, key=f"t{k}")
        st.pills("p", ["a", "b", "c", "d"], selection_mode="multi", key="p")
        st.form_submit_button("go")
with right:
    st.subheader("s")
    st.radio("r", [0, 1, 2, 3, 4], horizontal=True, key="r")
    st.pills("n", list(range(1, 11)), key="n")
    for n in range(10):
        with st.container(border=True, key=f"c{n}"):
            st.text(f"x {n}")
            st.caption("**a:** b")
            st.button("e", key=f"e{n}")
st.expander("o", key="o", on_change="rerun")
"""
# Each page as the role that uses it, in the phase it is used in.
SETUPS: dict[str, tuple[Role, Phase]] = {
    "group_issues": (Role.GROUP, Phase.COLLECT),
    "group_vote": (Role.GROUP, Phase.VOTE),
    "group_recommend": (Role.GROUP, Phase.RECOMMEND),
    "overview": (Role.VIEWER, Phase.COLLECT),
    "ranking": (Role.VIEWER, Phase.VOTE),
    "present": (Role.VIEWER, Phase.PRESENT),
    "facilitate": (Role.FACILITATOR, Phase.GROUP),
    "board": (Role.FACILITATOR, Phase.GROUP),
    "recommendations": (Role.FACILITATOR, Phase.RECOMMEND),
    "organizer_workshop": (Role.ORGANIZER, Phase.COLLECT),
    "organizer_groups": (Role.ORGANIZER, Phase.COLLECT),
    "organizer_join": (Role.ORGANIZER, Phase.COLLECT),
    "organizer_data": (Role.ORGANIZER, Phase.COLLECT),
}
TARGETS_MS = {"group_issues": 20.0, "overview": 60.0, "board": 60.0}


@dataclass
class Measured:
    page: str
    role: str
    phase: str
    times_ms: list[float]
    cpu_ms: list[float]
    elements: int

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return percentile(self.times_ms, 0.95)


def _identity(role: Role, workshop_id: int, group_id: int) -> Identity:
    if role is Role.GROUP:
        return Identity(role, workshop_id, group_id)
    if role is Role.VIEWER:
        return Identity(role, workshop_id)
    return Identity(role)


def _elements(at: AppTest) -> int:
    """How many elements the page drew (a big share of a rerun's cost is per element)."""

    def count(node: object) -> int:
        children = getattr(node, "children", None)
        if not children:
            return 1
        return 1 + sum(count(child) for child in children.values())

    return count(at._tree) - 1


def _app(path: Path, identity: Identity | None, workshop_id: int) -> AppTest:
    at = AppTest.from_file(str(path), default_timeout=120)
    at.session_state["_app_ran"] = True  # as after app.py ran once in the process
    at.session_state["lang"] = "th"
    if identity is not None:
        at.session_state["identity"] = identity
        if identity.workshop_id is None:
            at.session_state["workshop_id"] = workshop_id
    return at


def measure(path: Path, identity: Identity | None, workshop_id: int) -> AppTest:
    at = _app(path, identity, workshop_id)
    at.run()  # first run: imports, caches, session set-up
    if at.exception:
        raise RuntimeError(f"{path.name}: {at.exception[0].message}")
    return at


def timed(at: AppTest, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each rerun (CPU: this process, all threads)."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        at.run()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    if at.exception:
        raise RuntimeError(f"rerun failed: {at.exception[0].message}")
    return wall, cpu


PROFILED = """import cProfile, runpy, sys
profiler = sys.__dict__.setdefault("_page_profiler", cProfile.Profile())
profiler.enable()
try:
    runpy.run_path({page!r}, run_name="__main__")
finally:
    profiler.disable()
"""


def profile(page: str, tmp: Path, workshop_id: int, group_id: int, runs: int) -> None:
    """cProfile the page script itself (it runs in AppTest's script thread, not this one)."""
    role, phase = SETUPS[page]
    phases.set_phase(
        engine := db.get_engine(), actor="benchmark", workshop_id=workshop_id, phase=phase
    )
    wrapper = tmp / "profiled.py"
    wrapper.write_text(PROFILED.format(page=str(PAGES_DIR / f"{page}.py")), encoding="utf-8")
    at = measure(wrapper, _identity(role, workshop_id, group_id), workshop_id)
    sys.__dict__.pop("_page_profiler").disable()  # the warm-up run is not profiled
    timed(at, runs)
    stats = pstats.Stats(sys.__dict__["_page_profiler"])
    stats.sort_stats("cumulative").print_stats(60)
    del engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pages", default=",".join(PAGE_ROLES), help="comma-separated names")
    parser.add_argument("--profile", metavar="PAGE", help="cProfile this page's reruns")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = f"sqlite:///{Path(tmp.name) / 'pages.db'}"
    os.environ["DATABASE_URL"] = url
    engine = db.get_engine(url)
    started = time.perf_counter()
    wid = seed_workshop(engine, groups=args.groups, issues=args.issues)
    seeded = time.perf_counter() - started
    group_id = workshops.list_groups(engine, wid)[0].id
    assert group_id is not None

    floor_file = Path(tmp.name) / "one_line.py"
    floor_file.write_text('import streamlit as st\n\nst.write("x")\n', encoding="utf-8")

    if args.profile:
        profile(args.profile, Path(tmp.name), wid, group_id, args.runs)
        return

    skeleton_file = Path(tmp.name) / "skeleton.py"
    skeleton_file.write_text(SKELETON_PAGE, encoding="utf-8")

    results: list[Measured] = []
    floor_at = measure(floor_file, None, wid)
    for name in [FLOOR, SKELETON, *[p for p in args.pages.split(",") if p]]:
        if name == FLOOR:
            at, role, phase = floor_at, "-", "-"
        elif name == SKELETON:
            at, role, phase = measure(skeleton_file, None, wid), "-", "-"
        else:
            role_, phase_ = SETUPS[name]
            phases.set_phase(engine, actor="benchmark", workshop_id=wid, phase=phase_)
            at = measure(PAGES_DIR / f"{name}.py", _identity(role_, wid, group_id), wid)
            role, phase = role_.value, phase_.value
        results.append(Measured(name, role, phase, *timed(at, args.runs), _elements(at)))
        print(f"  measured {name}", file=sys.stderr, flush=True)
    # The floor again at the end: a busy machine shows as two different floors.
    again = Measured(f"{FLOOR} (again)", "-", "-", *timed(floor_at, args.runs), _elements(floor_at))
    results.append(again)

    floor = statistics.median([results[0].median, again.median])
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(
        f"{args.groups} groups, {args.issues} issues (seeded in {seeded:.1f} s); "
        f"{args.runs} reruns per page after one warm-up; SQLite; "
        f"Python {sys.version.split()[0]}; {os.cpu_count()} CPUs\nuptime: {load}\n"
    )
    print(
        "| page | role | phase | elements | median ms | p95 ms | median − floor ms "
        "| CPU median ms | target |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---|")
    for m in results:
        target = TARGETS_MS.get(m.page)
        verdict = f"< {target:.0f} {'✓' if m.median < target else '✗'}" if target else ""
        print(
            f"| {m.page} | {m.role} | {m.phase} | {m.elements} | {m.median:.1f} | {m.p95:.1f} "
            f"| {m.median - floor:+.1f} | {statistics.median(m.cpu_ms):.1f} | {verdict} |"
        )
    tmp.cleanup()


if __name__ == "__main__":
    main()
