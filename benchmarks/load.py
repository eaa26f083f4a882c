"""Load benchmark: simulated tabs drive a real `streamlit run` server over its websocket.

Roles, each a `benchmarks.stclient.Session` (one browser tab):
- dashboards open the viewer link on the overview page and refresh as the browser does
  (a fragment rerun per `auto_rerun` interval the server asks for);
- groups open their join link, enter issues through the real form widgets (between them
  one submission every --submit-every seconds) and each edits its first issue once;
- voters open a group's link in a second workshop in the vote phase and move one vote;
- idle groups (--idle-groups N) open their group's join link and sit, answering each
  fragment's auto-rerun at its own interval as the browser does (the follow fragment);
- a storm (--storm N) opens N new tabs from one address within --storm-seconds, half on
  the home page and half on the viewer link, as a venue's NAT or a misbehaving client
  would, while the groups go on submitting; their submits during the storm are reported
  apart ("issue submit in storm").

Without --url it starts one `streamlit run app.py` itself on a fresh SQLite database
with the demo workshop (and a seeded vote-phase workshop for voters); with --url it
targets a running server or proxy, reading join and view codes from --database-url.
Prints p50/p95/max latency per action, errors, server CPU and RSS, memory per idle tab.

    .venv/bin/python benchmarks/load.py --dashboards 500 --groups 20 --duration 60
    .venv/bin/python benchmarks/load.py --dashboards 0 --groups 10 --submit-every 0.5 \
        --storm 300 --storm-seconds 10 --duration 40
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from benchmarks.figures import percentile  # noqa: E402
from benchmarks.stclient import RunResult, Session  # noqa: E402
from models import db, i18n, workshops  # noqa: E402
from models.bootstrap import bootstrap  # noqa: E402
from models.schema import Phase  # noqa: E402

STATEMENTS = [
    "ครูไม่ครบชั้นในโรงเรียนขนาดเล็ก",
    "งบประมาณซ่อมอาคารมาช้า",
    "เอกสารรายงานซ้ำซ้อนหลายหน่วยงาน",
    "ขาดการนิเทศติดตามอย่างต่อเนื่อง",
    "ระบบอินเทอร์เน็ตในโรงเรียนไม่เสถียร",
]


@dataclass
class Stats:
    """Latencies per action and errors, gathered by every simulated tab."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)  # a few error texts, to show

    def record(self, action: str, result: RunResult, *, expect: str | None = None) -> None:
        self.latencies[action].append(result.seconds)
        problem = result.exceptions or result.errors
        if result.status != "ok" or problem:
            self.fail(action, "; ".join(problem) or result.status)

    def fail(self, action: str, why: str) -> None:
        self.errors[action] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{action}: {why[:200]}")


_addresses = iter(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in range(1, 2**24))


def laptop() -> dict[str, str]:
    """Each tab is its own laptop: the app throttles sign-ins per client address, which
    for a connection from this host is the last X-Forwarded-For entry (set by a proxy).
    Through a real proxy the proxy's own entry comes last and all tabs share one address."""
    return {"X-Forwarded-For": next(_addresses)}


@dataclass(frozen=True)
class Target:
    """Where the tabs go and the codes they open."""

    url: str
    view_code: str
    join_codes: list[str]
    vote_codes: list[str]


# -- the server -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy")


def prepare_database(url: str, *, voters: int) -> None:
    """The demo workshop, plus a small seeded workshop in the vote phase for voters."""
    engine = db.get_engine(url)
    bootstrap(engine)
    if voters:
        from benchmarks.seed import seed_workshop

        seed_workshop(engine, groups=20, issues=200, phase=Phase.VOTE)


def codes(database_url: str, *, voters: int) -> tuple[str, list[str], list[str]]:
    engine = db.get_engine(database_url)
    found = workshops.list_workshops(engine)
    first = next(w for w in found if w.phase == Phase.COLLECT)
    joins = [g.join_code for g in workshops.list_groups(engine, first.id)]
    voting = [w for w in found if w.phase == Phase.VOTE]
    votes = [g.join_code for g in workshops.list_groups(engine, voting[0].id)] if voters else []
    return first.view_code, joins, votes


def start_server(database_url: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = _free_port()
    log = Path(tempfile.mkstemp(prefix="rt-load-", suffix=".log")[1])
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        ORGANIZER_PASSWORD="load-organizer",
        FACILITATOR_PIN="LOAD482913",
        # Each tab sends its own X-Forwarded-For, as laptops behind the replicas' nginx
        # would: trust it from here, or every tab is one client to the sign-in throttle.
        ROUNDTABLE_TRUSTED_PROXIES="127.0.0.1",
        # The installed-by-default model: a machine with EmbeddingGemma (make model) would
        # otherwise spend the first half minute loading it into the measurement.
        ROUNDTABLE_EMBEDDINGS=os.environ.get("ROUNDTABLE_EMBEDDINGS", "use"),
    )
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.headless", "true",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    _wait_healthy(url)
    return server, url, log


# -- the roles ------------------------------------------------------------------------


@dataclass
class LoadRun:
    """What every tab watches: when the measured load starts and when it ends."""

    stats: Stats
    refresh_every: float | None = None  # None: the interval the server asks for
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    storming: bool = False  # a storm's tabs are still opening
    storm_began: float = 0.0
    slow: list[tuple[float, float]] = field(default_factory=list)  # (s into storm, latency)

    def submit_action(self, action: str) -> str:
        """The action name a group's run is counted under: apart while a storm lasts."""
        return f"{action} in storm" if self.storming else action

    async def pause(self, seconds: float) -> None:
        """Sleep, but wake up when the run ends."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.done.wait(), max(0.0, seconds))


async def sit(tab: Session, run: LoadRun, action: str) -> None:
    """An open tab left alone: rerun each auto-rerun fragment at its own interval (as the
    browser does; a page may have two, e.g. the dashboard's charts and the follow check)."""
    due: dict[str, float] = {}
    while not run.done.is_set():
        now = time.monotonic()
        for fragment, interval in tab.auto_reruns.items():  # tabs opened at random times
            due.setdefault(fragment, now + random.uniform(0, run.refresh_every or interval))
        for fragment in set(due) - set(tab.auto_reruns):
            del due[fragment]
        if not due:
            run.stats.fail(action, "no auto-rerun fragment on the page")
            return
        fragment = min(due, key=due.__getitem__)
        await run.pause(due[fragment] - time.monotonic())
        if run.done.is_set():
            return
        due[fragment] += run.refresh_every or tab.auto_reruns.get(fragment, 1.0)
        run.stats.record(action, await tab.rerun(fragment_id=fragment))


async def idle_group(target: Target, run: LoadRun, code: str) -> None:
    """A group's laptop with its issue page open, nobody typing."""
    tab = Session(target.url, query=f"join={code}", headers=laptop())
    try:
        run.stats.record("idle group open", await tab.connect())
        await run.ready.wait()
        await sit(tab, run, "idle group refresh")
    except Exception as error:
        run.stats.fail("idle group", repr(error))
    finally:
        await tab.close()


async def dashboard(target: Target, run: LoadRun) -> None:
    stats = run.stats
    tab = Session(target.url, page="overview", query=f"view={target.view_code}", headers=laptop())
    try:
        stats.record("dashboard open", await tab.connect())
        if not tab.auto_reruns:
            stats.fail("dashboard open", "no auto-rerun fragment on the dashboard")
            return
        await run.ready.wait()
        await sit(tab, run, "dashboard refresh")
    except Exception as error:  # counted, the run goes on
        stats.fail("dashboard", repr(error))
    finally:
        await tab.close()


async def group(target: Target, run: LoadRun, code: str, every: float, offset: float) -> None:
    stats = run.stats
    tab = Session(target.url, query=f"join={code}", headers=laptop())
    save = i18n.t("th", "action.save")
    edited = False
    try:
        stats.record("group open", await tab.connect())
        await run.ready.wait()
        await run.pause(offset)
        n = 0
        while not run.done.is_set():
            began = time.monotonic()
            n += 1
            statement = tab.find(key="new_statement")
            submit = tab.find(kind="button", form="new_issue")
            text = f"{random.choice(STATEMENTS)} ({code} #{n})"
            action = run.submit_action("issue submit")
            result = await tab.rerun({statement.id: text}, click=submit.id)
            stats.record(action, result)
            if run.storming:
                run.slow.append((began - run.storm_began, result.seconds))
            if text not in tab.texts("text"):
                stats.fail(action, "the new issue is not in the group's list")
            if not edited:  # each group edits one issue: open the edit form, save it
                edited = True
                button = tab.find(kind="button", key_prefix="edit_")
                issue_id = button.id.rsplit("-edit_", 1)[1]
                stats.record("edit open", await tab.rerun(click=button.id))
                box = tab.find(key=f"edit{issue_id}_statement")
                saving = tab.find(kind="button", form=f"edit_form_{issue_id}", label=save)
                result = await tab.rerun({box.id: text + " (แก้ไข)"}, click=saving.id)
                stats.record("issue edit", result)
                if text + " (แก้ไข)" not in tab.texts("text"):
                    stats.fail("issue edit", "the edited issue is not in the group's list")
            await run.pause(every - (time.monotonic() - began))
    except Exception as error:
        stats.fail("group", repr(error))
    finally:
        await tab.close()


async def voter(target: Target, run: LoadRun, code: str, every: float) -> None:
    stats = run.stats
    tab = Session(target.url, query=f"join={code}", headers=laptop())
    try:
        stats.record("voter open", await tab.connect())
        if not tab.find_all(kind="number_input", key_prefix="vote_"):
            # groups land on their issue page: go to the vote page by its URL path
            tab.page_name, tab.page_script_hash = "group_vote", ""
            stats.record("voter open", await tab.rerun())
        await run.ready.wait()
        await run.pause(random.uniform(0, every))
        down = True
        while not run.done.is_set():
            began = time.monotonic()
            inputs = tab.find_all(kind="number_input", key_prefix="vote_")
            if not inputs:
                stats.fail("vote", "no vote input on the vote page")
                return
            box = next((w for w in inputs if w.proto.value > 0), inputs[0])
            value = box.proto.value - 1 if down and box.proto.value > 0 else box.proto.value + 1
            stats.record("vote", await tab.rerun({box.id: float(value)}))
            down = not down
            await run.pause(every - (time.monotonic() - began))
    except Exception as error:
        stats.fail("voter", repr(error))
    finally:
        await tab.close()


async def storm_tab(target: Target, run: LoadRun, n: int, address: dict[str, str]) -> None:
    """One tab of a storm: a new session on the home page or the viewer link, left open."""
    stats = run.stats
    viewer = n % 2 == 1
    query = f"view={target.view_code}" if viewer else ""
    tab = Session(target.url, page="overview" if viewer else "", query=query, headers=address)
    try:
        stats.record("storm open", await tab.connect(timeout=300))
        await run.done.wait()
    except Exception as error:
        stats.fail("storm", repr(error))
    finally:
        await tab.close()


async def storm(target: Target, run: LoadRun, count: int, seconds: float, at: float) -> None:
    """`count` new tabs from one address, evenly over `seconds`, `at` seconds into the run;
    the storm lasts until the last of them has loaded (or failed)."""
    await run.pause(at)
    if run.done.is_set() or not count:
        return
    address = laptop()  # every tab of the storm comes from this one address
    print(f"storm: {count} new tabs from {address['X-Forwarded-For']} over {seconds:g} s")
    run.storming, run.storm_began = True, time.monotonic()
    began = time.monotonic()
    tabs = []
    for n in range(count):
        tabs.append(asyncio.create_task(storm_tab(target, run, n, address)))
        await asyncio.sleep(max(0.0, began + seconds * (n + 1) / count - time.monotonic()))
    while _opened(run.stats, ("storm",)) < count and not run.done.is_set():
        await asyncio.sleep(0.1)
    run.storming = False
    print(f"storm: all {count} tabs loaded {time.monotonic() - began:.1f} s after the first")
    worst = sorted(run.slow, key=lambda pair: -pair[1])[:5]
    print(
        "storm: slowest submits (s into the storm: ms) "
        + ", ".join(f"{at:.1f}: {1000 * took:.0f}" for at, took in worst)
    )
    await asyncio.gather(*tabs, return_exceptions=True)


# -- measuring ------------------------------------------------------------------------


def report(stats: Stats) -> None:
    print(f"{'action':<20}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}")
    for action in sorted(set(stats.latencies) | set(stats.errors)):
        values = stats.latencies.get(action) or [0.0]
        print(
            f"{action:<20}{len(stats.latencies.get(action, [])):>7}"
            f"{1000 * statistics.median(values):>9.0f}{1000 * percentile(values, 0.95):>9.0f}"
            f"{1000 * max(values):>9.0f}{stats.errors.get(action, 0):>8}"
        )
    print(f"errors: {sum(stats.errors.values())}")
    for sample in stats.samples:
        print(f"  e.g. {sample}")


async def _open(tasks: list[asyncio.Task[None]], coroutines: list, batch: int = 25) -> None:
    """Open tabs a batch at a time, as a room fills up, and wait until all have loaded."""
    started = []
    for start in range(0, len(coroutines), batch):
        started += [asyncio.create_task(c) for c in coroutines[start : start + batch]]
        await asyncio.sleep(0.25)
    tasks += started


def _cores() -> int:
    return psutil.cpu_count() or 1


def _opened(stats: Stats, roles: tuple[str, ...]) -> int:
    return sum(len(stats.latencies.get(f"{r} open", [])) + stats.errors.get(r, 0) for r in roles)


async def measure(args: argparse.Namespace, target: Target, server: psutil.Process | None) -> Stats:
    run = LoadRun(Stats(), args.refresh_every)
    tasks: list[asyncio.Task[None]] = []
    # Memory per tab: RSS with all dashboards open minus RSS with the first few open (after
    # the first tabs have loaded the libraries and the sentence model), per extra tab.
    first = min(args.dashboards, 10)
    await _open(tasks, [dashboard(target, run) for _ in range(first)])
    while _opened(run.stats, ("dashboard",)) < first:
        await asyncio.sleep(0.5)
    if server:
        await asyncio.sleep(3)  # let the first tabs' start-up work settle
    base_rss = server.memory_info().rss if server else 0
    if server:
        # uvloop (a dependency) takes about a quarter off each refresh: say if it is in use.
        loaded = any("uvloop" in m.path for m in server.memory_maps())
        print(f"server event loop: {'uvloop' if loaded else 'asyncio (uvloop not loaded)'}")
    await _open(tasks, [dashboard(target, run) for _ in range(args.dashboards - first)])
    while _opened(run.stats, ("dashboard",)) < args.dashboards:
        await asyncio.sleep(0.5)
    if server and args.dashboards > first:
        await asyncio.sleep(3)
        rss = server.memory_info().rss
        print(
            f"server RSS: {base_rss / 2**20:.0f} MiB with {first} dashboards open, "
            f"{rss / 2**20:.0f} MiB with {args.dashboards}: "
            f"{(rss - base_rss) / (args.dashboards - first) / 2**20:.2f} MiB per idle tab"
        )
    every = args.submit_every * max(1, args.groups)  # each group's own interval
    joins, ballots = target.join_codes, target.vote_codes
    others = [
        group(target, run, joins[i % len(joins)], every, offset=i * args.submit_every)
        for i in range(args.groups)
    ] + [voter(target, run, ballots[i % len(ballots)], args.vote_every) for i in range(args.voters)]
    others += [idle_group(target, run, joins[i % len(joins)]) for i in range(args.idle_groups)]
    await _open(tasks, others)
    while _opened(run.stats, ("dashboard", "group", "voter", "idle group")) < len(tasks):
        await asyncio.sleep(0.5)
    me = psutil.Process()
    server_before = sum(server.cpu_times()[:2]) if server else 0.0
    client_before = sum(me.cpu_times()[:2])
    print(f"machine load before: {os.getloadavg()[0]:.1f} (1-minute average, {_cores()} cores)")
    started = time.monotonic()
    run.ready.set()
    tasks.append(
        asyncio.create_task(storm(target, run, args.storm, args.storm_seconds, args.storm_at))
    )
    await asyncio.sleep(args.duration)
    run.done.set()
    elapsed = time.monotonic() - started
    print(f"machine load after: {os.getloadavg()[0]:.1f} (above the cores: figures are noisy)")
    if server:
        cpu = sum(server.cpu_times()[:2]) - server_before
        runs = sum(len(v) for k, v in run.stats.latencies.items() if "open" not in k)
        print(
            f"server CPU: {100 * cpu / elapsed:.0f}% of one core ({_cores()} cores), "
            f"{1000 * cpu / max(1, runs):.1f} ms per measured action, "
            f"RSS {server.memory_info().rss / 2**20:.0f} MiB, over {elapsed:.0f} s"
        )
    client = 100 * (sum(me.cpu_times()[:2]) - client_before) / elapsed
    print(f"load client CPU: {client:.0f}% of one core (well under 100: not the bottleneck)")
    await asyncio.gather(*tasks, return_exceptions=True)
    return run.stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dashboards", type=int, default=50)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--voters", type=int, default=0)
    parser.add_argument(
        "--idle-groups", type=int, default=0, help="group pages opened and left alone"
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of measured load")
    parser.add_argument(
        "--submit-every", type=float, default=2.0, help="seconds between submissions (all groups)"
    )
    parser.add_argument(
        "--vote-every", type=float, default=5.0, help="seconds between a voter's votes"
    )
    parser.add_argument(
        "--refresh-every",
        type=float,
        help="seconds between a dashboard's refreshes (default: what the app asks for)",
    )
    parser.add_argument("--storm", type=int, default=0, help="new tabs from one address")
    parser.add_argument(
        "--storm-seconds", type=float, default=10.0, help="the storm's tabs open over this time"
    )
    parser.add_argument(
        "--storm-at", type=float, default=5.0, help="seconds into the measured load it starts"
    )
    parser.add_argument("--url", help="an existing server or proxy (default: start one)")
    parser.add_argument("--database-url", help="its database, to read the codes (with --url)")
    parser.add_argument("--server-pid", type=int, help="the server process to watch (with --url)")
    args = parser.parse_args(argv)

    server: subprocess.Popen[bytes] | None = None
    if args.url:
        database_url = args.database_url or db.database_url()
        url = args.url.rstrip("/")
    else:
        folder = Path(tempfile.mkdtemp(prefix="rt-load-"))
        database_url = f"sqlite:///{folder / 'load.db'}"
        prepare_database(database_url, voters=args.voters)
        server, url, log = start_server(database_url)
        print(f"server: {url} (pid {server.pid}, log {log})")
    try:
        view, joins, ballots = codes(database_url, voters=args.voters)
        target = Target(url, view, joins, ballots)
        pid = server.pid if server else args.server_pid
        watched = psutil.Process(pid) if pid else None
        warm = asyncio.run(_warm_up(target))  # first run imports pandas, plotly, the models
        if warm:
            print(f"warm-up failed: {warm}")
            return 1
        print(
            f"{args.dashboards} dashboards, {args.groups} groups (one submission every "
            f"{args.submit_every:g} s between them), {args.voters} voters, "
            f"{args.idle_groups} idle groups, {args.duration:g} s"
        )
        stats = asyncio.run(measure(args, target, watched))
        report(stats)
        return 1 if sum(stats.errors.values()) else 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=60)  # hundreds of open sessions take a while to close
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


async def _warm_up(target: Target) -> str:
    tab = Session(target.url, page="overview", query=f"view={target.view_code}")
    try:
        result = await tab.connect()
        return "; ".join(result.exceptions + result.errors)
    finally:
        await tab.close()


if __name__ == "__main__":
    sys.exit(main())
