"""Replica lag: an issue stored through one replica, until a dashboard on another shows it.

Against two servers on one database, e.g. the pair `make replicas` starts:

    .venv/bin/python benchmarks/replica_lag.py --writer http://127.0.0.1:8502 \
        --reader http://127.0.0.1:8503 [--samples 10]

DATABASE_URL names their database (default: `make replicas`'s). The benchmark adds its own
workshop there ("lag-<time>", one group, in the collect phase), so a real one is not
touched. A viewer's tab on the reader refreshes its dashboard as a browser does (each
auto-rerun fragment at the interval the server asks for, on its own clock); a group's tab
on the writer submits an issue through the form, at a random phase of that refresh. Each
sample's lag runs from the issue's stored time to the first refresh that shows the new
count (one machine, one clock). Prints every sample, then the median, p95 and max. The
browser test (tests/browser/test_replicas.py) prints the same figure once, in Chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.figures import percentile  # noqa: E402
from benchmarks.stclient import Session  # noqa: E402
from models import db, i18n, issues, workshops  # noqa: E402
from models.schema import Phase  # noqa: E402
from models.workshops import WorkshopInput  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql+psycopg://root@127.0.0.1:5432/roundtable"
ISSUES = i18n.t("th", "overview.issues")  # the dashboard metric's label


def make_workshop(engine: db.Engine) -> workshops.Workshop:
    today = dt.date.today()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return workshops.create_workshop(
        engine,
        actor="benchmark",
        data=WorkshopInput(title=f"วัดเวลาระหว่างสองเครื่อง {stamp}", starts_on=today, ends_on=today),
        slug=f"lag-{stamp}",
        groups=["กลุ่มวัดเวลา"],
        domains=[("วิชาการ", "Academic")],
        phase=Phase.COLLECT,
    )


def shown_count(tab: Session) -> int | None:
    """The dashboard's issue count, as the tab last received it."""
    for text in tab.texts("metric"):
        label, _, value = text.partition(": ")
        if label == ISSUES:
            return int(value)
    return None


class Watcher:
    """The reader's tab left open: it refreshes at the interval the server asks for, on
    its own clock as a browser does (not in step with the submits), and notes when each
    count first showed (time.time())."""

    def __init__(self, tab: Session) -> None:
        self.tab = tab
        self.seen: dict[int, float] = {}
        self.changed = asyncio.Event()

    async def run(self) -> None:
        interval = min(self.tab.auto_reruns.values(), default=1.0)
        while True:
            await asyncio.sleep(interval)
            await self.tab.refresh()
            count = shown_count(self.tab)
            if count is not None and count not in self.seen:
                self.seen[count] = time.time()
                self.changed.set()

    async def until(self, count: int, *, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while count not in self.seen:
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the reader's dashboard did not show {count} in {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return self.seen[count]


async def measure(args: argparse.Namespace) -> list[float]:
    engine = db.get_engine(args.database_url)
    workshop = make_workshop(engine)
    group = workshops.list_groups(engine, workshop.id)[0]  # type: ignore[arg-type]
    viewer = Session(args.reader, page="overview", query=f"view={workshop.view_code}")
    writer = Session(args.writer, query=f"join={group.join_code}")
    lags: list[float] = []
    try:
        for tab in (viewer, writer):
            opened = await tab.connect(timeout=args.timeout)
            if not opened.ok:
                raise RuntimeError(f"{tab.base_url} did not open: {opened}")
        if shown_count(viewer) != 0:
            raise RuntimeError(f"the reader shows no issue count of 0 (texts: {viewer.texts()})")
        watcher = Watcher(viewer)
        watching = asyncio.create_task(watcher.run())
        interval = min(viewer.auto_reruns.values(), default=1.0)
        for sample in range(1, args.samples + 1):
            statement = writer.find(key="new_statement")
            submit = writer.find(kind="button", form="new_issue")
            text = f"ห้องเรียนไม่พอ ตัวอย่างที่ {sample}"
            saved = await writer.rerun({statement.id: text}, click=submit.id)
            if not saved.ok:
                raise RuntimeError(f"the writer's submit failed: {saved}")
            stored = issues.workshop_issues(engine, workshop.id)  # type: ignore[arg-type]
            if len(stored) != sample:
                raise RuntimeError(f"{len(stored)} issues stored after {sample} submits")
            created = stored[-1].created_at
            created = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
            shown = await watcher.until(sample, timeout=args.timeout)
            lags.append(shown - created.timestamp())
            print(f"sample {sample}: {lags[-1]:.2f} s", flush=True)
            await asyncio.sleep(random.uniform(0, interval))  # a new phase of the refresh
        watching.cancel()
    finally:
        await viewer.close()
        await writer.close()
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writer", required=True, help="the replica the group's tab uses")
    parser.add_argument("--reader", required=True, help="the replica the dashboard's tab uses")
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    lags = sorted(asyncio.run(measure(args)))
    p95 = percentile(lags, 0.95)
    print(
        f"replica lag over {len(lags)} samples: median {statistics.median(lags):.2f} s, "
        f"p95 {p95:.2f} s, max {lags[-1]:.2f} s (load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
