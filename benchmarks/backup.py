"""What a scheduled SQLite backup costs: its duration and size, and what it does to writers.

Seeds a 20-group, 2,000-issue workshop (benchmarks/seed.py), then has writer threads add
issues through the real command while `autobackup.backup_now` copies the database every
`--every` seconds, and prints the backup times and the writers' latency with and without
backups running:

    .venv/bin/python benchmarks/backup.py [--writers 20] [--seconds 15] [--every 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.seed import seed_workshop  # noqa: E402
from models import autobackup, db, embeddings, issues, workshops  # noqa: E402
from models.access import Identity  # noqa: E402
from models.schema import Role  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


def _write_for(engine: db.Engine, workshop_id: int, writers: int, seconds: float) -> list[float]:
    """Latencies (ms) of adds by `writers` threads, each adding one issue after another."""
    groups = workshops.list_groups(engine, workshop_id)
    domain = workshops.list_domains(engine, workshop_id)[0]
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    def writer(n: int) -> None:
        who = Identity(Role.GROUP, workshop_id, groups[n % len(groups)].id)
        k = 0
        while time.monotonic() < stop:
            data = issues.IssueInput(domain_id=domain.id, statement=f"เขียนระหว่างสำรอง {n}-{k}")  # type: ignore[arg-type]
            start = time.perf_counter()
            issues.add_issue(engine, identity=who, data=data, client_token=f"b{n}-{k}-{stop}")
            latencies.append((time.perf_counter() - start) * 1000)
            k += 1
            time.sleep(0.05)  # a group types between submits

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between backups")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="rt-backup-bench-"))
    database = folder / "roundtable.db"
    engine = db.get_engine(f"sqlite:///{database}")
    workshop_id = seed_workshop(engine, groups=20, issues=2000)
    size = database.stat().st_size / 1e6
    print(f"database: {size:.1f} MB, 2,000 issues, 20 groups ({database})")

    embeddings.vector_for("ครู")  # load the configured sentence model before timing
    quiet = _write_for(engine, workshop_id, args.writers, args.seconds)

    taken: list[float] = []
    done = threading.Event()

    def backups() -> None:
        while not done.wait(args.every):
            start = time.perf_counter()
            autobackup.backup_now(database, folder / "backups", keep=5)
            taken.append((time.perf_counter() - start) * 1000)

    scheduler = threading.Thread(target=backups)
    scheduler.start()
    busy = _write_for(engine, workshop_id, args.writers, args.seconds)
    done.set()
    scheduler.join()

    copies = autobackup.list_backups(database, folder / "backups")
    sound = all(autobackup.integrity_errors(copy) == [] for copy in copies)
    print(
        f"backups: {len(taken)} taken, median {statistics.median(taken):.0f} ms, "
        f"max {max(taken):.0f} ms; {len(copies)} kept (keep=5), all sound: {sound}"
    )
    for label, values in (("no backups", quiet), (f"a backup every {args.every:g} s", busy)):
        print(
            f"{args.writers} writers, {label}: {len(values)} adds, "
            f"p50 {_pct(values, 0.5):.0f} ms, p95 {_pct(values, 0.95):.0f} ms, "
            f"max {max(values):.0f} ms"
        )


if __name__ == "__main__":
    main()
