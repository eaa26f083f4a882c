"""What a stored proposal costs the board: its rerun with and without one, and the commands.

    .venv/bin/python benchmarks/board_proposals.py [--issues 2000] [--runs 20]

Seeds a SQLite file with benchmarks/seed.py (30 % of the issues left ungrouped, lexical
vectors unless ROUNDTABLE_EMBEDDINGS says otherwise), then times one board rerun (AppTest,
as benchmarks/pages.py does) with no proposal, with a pending "sort the rest" proposal
for every ungrouped issue, and with suggested themes too; and the commands themselves:
making each proposal, applying the whole sorting, undoing it. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
os.environ.setdefault("ROUNDTABLE_EMBEDDINGS", "lexical")

from benchmarks.pages import PAGES_DIR, measure, timed  # noqa: E402
from benchmarks.seed import seed_workshop  # noqa: E402
from models import db, embeddings, phases, proposals, themes, undo, views  # noqa: E402
from models.access import Identity  # noqa: E402
from models.schema import Phase, Role  # noqa: E402

ACTOR = "facilitator#bench"


def _once(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = f"sqlite:///{Path(tmp.name) / 'board.db'}"
    os.environ["DATABASE_URL"] = url
    engine = db.get_engine(url)
    wid = seed_workshop(engine, issues=args.issues, backend=None)
    phases.set_phase(engine, actor=ACTOR, workshop_id=wid, phase=Phase.GROUP)
    board = themes.board(engine, wid)
    print(
        f"{args.issues} issues, {len(board.ungrouped)} ungrouped, {len(board.themes)} themes; "
        f"backend {embeddings.backend().name}; {args.runs} board reruns per row; SQLite; "
        f"{os.cpu_count()} CPUs\n"
    )
    rows: list[tuple[str, float, float | None]] = []

    def rerun(label: str) -> None:
        at = measure(PAGES_DIR / "board.py", Identity(Role.FACILITATOR), wid)
        wall, _ = timed(at, args.runs)
        ordered = sorted(wall)
        rows.append((label, statistics.median(wall), ordered[round(0.95 * (len(wall) - 1))]))
        print(f"  measured {label}", file=sys.stderr, flush=True)

    rerun("board rerun, no proposal")
    took, stored = _once(lambda: proposals.propose_sort(engine, actor=ACTOR, workshop_id=wid))
    rows.append((f"propose_sort ({len(stored.placements)} issues)", took, None))
    placed = sum(1 for p in stored.placements if p.theme_id is not None)
    rerun(f"board rerun, sort proposal pending ({placed} placed)")
    took, _ = _once(lambda: proposals.propose_themes(engine, actor=ACTOR, workshop_id=wid))
    rows.append(("propose_themes", took, None))
    rerun("board rerun, both proposals pending")
    version = views.version(engine, wid)
    took, _ = _once(lambda: proposals.current(engine, wid, (version[0], version[1] + "x")))
    rows.append(("reading both proposals (once per board version)", took, None))
    moves = {p.issue_id: p.theme_id for p in stored.placements if p.theme_id is not None}
    took, _ = _once(
        lambda: proposals.apply_sort(
            engine, actor=ACTOR, workshop_id=wid, proposal_id=stored.id, moves=moves
        )
    )
    rows.append((f"apply_sort ({len(moves)} issues, one event)", took, None))
    took, _ = _once(lambda: undo.undo_last(engine, actor=ACTOR, workshop_id=wid))
    rows.append(("undo of that sorting", took, None))

    print("| what | median ms | p95 ms |")
    print("|---|---:|---:|")
    for label, median, p95 in rows:
        print(f"| {label} | {median:.1f} | {'' if p95 is None else f'{p95:.1f}'} |")
    tmp.cleanup()


if __name__ == "__main__":
    main()
