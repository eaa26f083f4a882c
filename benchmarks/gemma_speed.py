"""Speed of the sentence model where people wait for it (issue #13 item 6): prints figures.

    .venv/bin/python benchmarks/gemma_speed.py [--backend gemma] [--issues 2000] [--stores 30]

On a fresh SQLite file: the model's load; one statement's vector; storing an issue the
way a group's submit does (`issues.add_issue`: vector, then one write transaction with its
audit event); importing `--issues` statements with their vectors (what a re-embedding
costs); a group's page after the reveal with that many issues (`views.group_view`: stored
issues' hints) and the hint for a draft being typed (`views.draft_hints`); suggestions for
all of them (`suggest.suggest_for_workshop`). Medians over several runs, and the machine's
load average, as other work on the two cores moves every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.seed import issue_table  # noqa: E402
from models import db, embeddings, io_issues, issues, suggest, views, workshops  # noqa: E402
from models.access import Identity  # noqa: E402
from models.schema import Phase, Role  # noqa: E402

GROUPS = [f"กลุ่มที่ {n}" for n in range(1, 21)]
DOMAINS = [("วิชาการ", "Academic"), ("งบประมาณ", "Budget"), ("บุคคล", "Personnel")]


def _ms(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    median = statistics.median(ordered)
    return f"median {1000 * median:.0f} ms, p90 {1000 * p90:.0f} ms (n={len(ordered)})"


_cpu: list[float] = []  # the calling thread's CPU time of each `_timed` run, in order


def _timed(run: Callable[[], object]) -> float:
    """Wall time of `run`; its CPU time goes to `_cpu` (torch's one intra-op thread is the
    caller: CPU time shows what an idle machine would take when others share the cores)."""
    cpu, started = time.thread_time(), time.perf_counter()
    run()
    _cpu.append(time.thread_time() - cpu)
    return time.perf_counter() - started


def _cpu_ms(count: int) -> str:
    return f"CPU median {1000 * statistics.median(_cpu[-count:]):.0f} ms"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def _import(engine: Engine, table: pd.DataFrame, args: argparse.Namespace) -> int:
    """A workshop of 20 groups with `args.issues` issues and their vectors; its id."""
    workshop = workshops.create_workshop(
        engine,
        actor="benchmark",
        slug="speed",
        data=workshops.WorkshopInput(
            title="speed", starts_on=dt.date(2018, 3, 14), ends_on=dt.date(2018, 3, 16)
        ),
        groups=GROUPS,
        domains=DOMAINS,
        phase=Phase.COLLECT,
    )
    wid = workshop.id
    assert wid is not None
    took = _timed(
        lambda: io_issues.import_issues(engine, actor="benchmark", workshop_id=wid, df=table)
    )
    print(
        f"import {args.issues} issues with their vectors: {took:.1f} s "
        f"({1000 * took / args.issues:.0f} ms each)"
    )
    return wid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="gemma", help="ROUNDTABLE_EMBEDDINGS for the run")
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--stores", type=int, default=30, help="issues stored one at a time")
    parser.add_argument("--drafts", type=int, default=20, help="drafts hinted one at a time")
    parser.add_argument(
        "--db", help="SQLite file to keep the imported issues in (reused when it holds them)"
    )
    args = parser.parse_args()
    os.environ[embeddings.ENV] = args.backend
    print(_load())

    started = time.perf_counter()
    backend = embeddings.backend()
    backend.encode(["ครู"])
    print(f"backend {backend.name} ({backend.tag}) {backend.fallback}".rstrip())
    print(f"model load and first vector: {time.perf_counter() - started:.1f} s")
    if "torch" in sys.modules:
        import torch

        print(f"torch {torch.__version__}: {torch.get_num_threads()} intra-op thread(s)")

    rng = random.Random(2561)
    table, _ = issue_table(GROUPS, [name for name, _ in DOMAINS], args.issues, rng)
    texts = list(table["text"])
    singles = [f"{t} ในปีนี้" for t in texts[: args.stores]]  # not seen before: no cache
    one = [_timed(lambda t=t: backend.encode_one(t)) for t in singles]
    print("one statement's vector:", _ms(one), _cpu_ms(len(one)))

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speed.db"  # a copy: what is stored below stays out of --db
        reuse = bool(args.db) and Path(args.db).exists()
        if reuse:
            shutil.copy(args.db, path)
        engine = db.get_engine(f"sqlite:///{path}")
        if reuse:
            wid = workshops.list_workshops(engine)[0].id
            assert wid is not None
            print(f"reusing the issues and vectors of {args.db}")
        else:
            wid = _import(engine, table, args)
            if args.db:
                engine.dispose()
                shutil.copy(path, args.db)
        group = workshops.list_groups(engine, wid)[0]
        domain = workshops.list_domains(engine, wid)[0]
        who = Identity(Role.GROUP, wid, group.id)
        stores = [f"{t} เมื่อเดือนที่แล้ว" for t in texts[: args.stores]]
        vector_only = [_timed(lambda t=t: embeddings.vector_for(t)) for t in stores]
        print("store path, the vector alone:", _ms(vector_only), _cpu_ms(len(vector_only)))
        stored = [
            _timed(
                lambda t=t: issues.add_issue(
                    engine,
                    identity=who,
                    data=issues.IssueInput(domain_id=domain.id, statement=f"{t} อีกครั้ง"),  # type: ignore[arg-type]
                )
            )
            for t in stores
        ]
        print(
            "store an issue with its vector (issues.add_issue):", _ms(stored), _cpu_ms(len(stored))
        )

        from models import phases

        phases.set_reveal(engine, actor="benchmark", workshop_id=wid, revealed=True)
        version = views.version(engine, wid)
        took = _timed(lambda: views.group_view(engine, wid, group.id, True, version))
        print(
            f"group page's hints for its stored issues, {args.issues} issues: {took:.2f} s "
            "(once per change of the workshop)"
        )
        view = views.group_view(engine, wid, group.id, True, version)
        views.draft_hints(view, texts[0])  # the per-version matrix, built once
        drafts = [f"{t} บ่อยครั้ง" for t in texts[100 : 100 + args.drafts]]
        found = [views.draft_hints(view, d) for d in drafts]
        hinted = [_timed(lambda d=d: views.draft_hints(view, d + " มาก")) for d in drafts]
        print(
            "hint for a draft being typed (views.draft_hints):",
            _ms(hinted),
            _cpu_ms(len(hinted)),
            f"- {sum(1 for f in found if f)}/{len(found)} drafts got a hint",
        )
        after = [
            _timed(
                lambda d=d: issues.add_issue(
                    engine,
                    identity=who,
                    data=issues.IssueInput(domain_id=domain.id, statement=d + " มาก"),  # type: ignore[arg-type]
                )
            )
            for d in drafts
        ]
        print(
            "store an issue whose draft was hinted (vector reused):",
            _ms(after),
            _cpu_ms(len(after)),
        )

        cpu = time.process_time()  # the clustering's BLAS may use more than this thread
        runs = [_timed(lambda: suggest.suggest_for_workshop(engine, wid)) for _ in range(2)]
        cpu = (time.process_time() - cpu) / len(runs)
        result = suggest.suggest_for_workshop(engine, wid)
        print(
            f"suggestions for {args.issues + args.stores} ungrouped issues: "
            f"{_ms(runs)}, process CPU {cpu:.1f} s a run, {result.k} themes"
        )
        engine.dispose()
    print(_load())


if __name__ == "__main__":
    main()
