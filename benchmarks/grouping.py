"""Quality and speed of theme suggestions, per embedding backend (prints a Markdown table).

    .venv/bin/python benchmarks/grouping.py [--backends use,e5,lexical] [--issues 2000]

Quality: adjusted Rand index and NMI of the automatic grouping (k chosen by the code, not
told) against benchmarks/data/thai_problems.csv (180 statements, 15 themes, written as
different people would: paraphrases sharing few words, some in English), for the Louvain
partition the app uses and the spectral Ward cut it replaced, each also as mean ± sd over
20 random 85 % subsamples (seeded). Seeded sorting: 3 seed statements per theme drawn at
random (20 draws), the rest sorted by `suggest.sort_rest`: % correct among the sorted and
% sorted at `suggest.SORT_THRESHOLD`, and the same over a range of thresholds. Duplicate
hints: how many of benchmarks/data/duplicate_pairs.csv clear the backend's threshold,
and how many pairs of the evaluation set from *different* themes wrongly do.
Speed: storing one issue with its vector (add_issue, SQLite file), importing and then
suggesting themes for `--issues` stored issues (wall and CPU seconds: on a busy machine the
CPU time is the fairer figure), and how many themes that gives. A backend that is not
installed is skipped.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.seed import VARIANTS  # noqa: E402  (endings that vary the 2,000 statements)
from models import db, embeddings, io_issues, issues, suggest, workshops  # noqa: E402
from models.access import Identity  # noqa: E402
from models.schema import Phase, Role  # noqa: E402

DATA = ROOT / "benchmarks" / "data"


def load_eval() -> tuple[list[str], list[str], list[str]]:
    with (DATA / "thai_problems.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], [r["domain"] for r in rows], [r["theme"] for r in rows]


def numbered(result: suggest.Suggestions, n: int) -> list[int]:
    labels = [-1] * n
    for number, theme in enumerate(result.themes):
        for i in theme.issue_ids:
            labels[i] = number
    return labels


def quality(backend: embeddings.Backend) -> dict[str, object]:
    texts, domains, truth = load_eval()
    started = time.perf_counter()
    vectors = backend.encode(texts)
    encode_ms = (time.perf_counter() - started) * 1000 / len(texts)
    out: dict[str, object] = {"encode_batch_ms": encode_ms}
    for mode, within in (("cross", False), ("within", True)):
        started = time.perf_counter()
        result = suggest.suggest(
            texts, vectors, domains=domains, within_domain=within, backend=backend
        )
        out[f"{mode}_s"] = time.perf_counter() - started
        labels = numbered(result, len(texts))
        out[f"{mode}_k"] = result.k
        out[f"{mode}_ari"] = adjusted_rand_score(truth, labels)
        out[f"{mode}_nmi"] = normalized_mutual_info_score(truth, labels)
    told = suggest.suggest(texts, vectors, k=len(set(truth)), backend=backend)
    out["told_ari"] = adjusted_rand_score(truth, numbered(told, len(texts)))
    again = suggest.suggest(texts, backend.encode(texts), domains=domains, backend=backend)
    first = suggest.suggest(texts, vectors, domains=domains, backend=backend)
    out["deterministic"] = numbered(again, len(texts)) == numbered(first, len(texts))
    # Duplicate hints: recall on real near-duplicates, false alarms across themes.
    with (DATA / "duplicate_pairs.csv").open(encoding="utf-8") as fh:
        pairs = list(csv.DictReader(fh))
    a = backend.encode([p["a"] for p in pairs])
    b = backend.encode([p["b"] for p in pairs])
    same = np.diag(backend.similarity(a, b))
    out["dup_recall"] = float((same >= backend.duplicate_threshold).mean())
    scores = backend.similarity(vectors, vectors)
    upper = np.triu(np.ones_like(scores, dtype=bool), 1)
    other_theme = upper & (np.array(truth)[:, None] != np.array(truth)[None, :])
    out["dup_false"] = int((scores[other_theme] >= backend.duplicate_threshold).sum())
    out["dup_pairs"] = int(other_theme.sum())
    out["dup_median"] = float(np.median(same))
    return out


SUBSAMPLES = 20
SEED_DRAWS = 20
SEEDS_PER_THEME = 3
THRESHOLDS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)


def methods(backend: embeddings.Backend, vectors: list[bytes]) -> dict[str, dict[str, float]]:
    """Louvain against the spectral Ward cut: on the whole set and over 85 % subsamples."""
    _, _, truth_list = load_eval()
    truth = np.array(truth_list)
    features = backend.features(vectors)
    out: dict[str, dict[str, float]] = {}
    for method in ("louvain", "ward"):
        labels, k = suggest.cluster(features, method=method)
        rng = np.random.default_rng(0)
        scores = []
        for _ in range(SUBSAMPLES):
            rows = np.sort(rng.choice(len(truth), int(0.85 * len(truth)), replace=False))
            found, _ = suggest.cluster(features[rows], method=method)
            scores.append(adjusted_rand_score(truth[rows], found))
        out[method] = {
            "ari": adjusted_rand_score(truth, labels),
            "nmi": normalized_mutual_info_score(truth, labels),
            "k": k,
            "mean": float(np.mean(scores)),
            "sd": float(np.std(scores)),
        }
    return out


def seeded(
    backend: embeddings.Backend, vectors: list[bytes]
) -> dict[float, tuple[float, float, float, float]]:
    """Per threshold: mean % correct among sorted, mean % sorted, worst draw of each."""
    _, _, truth = load_eval()
    draws = []
    for draw in range(SEED_DRAWS):
        rng = np.random.default_rng(draw)
        seeds: dict[str, list[int]] = {}
        for theme in sorted(set(truth)):
            members = [i for i, t in enumerate(truth) if t == theme]
            seeds[theme] = [int(i) for i in rng.choice(members, SEEDS_PER_THEME, replace=False)]
        chosen = {i for rows in seeds.values() for i in rows}
        rest = [i for i in range(len(truth)) if i not in chosen]
        found = suggest.sort_rest(
            {t: [vectors[i] for i in rows] for t, rows in seeds.items()},
            [vectors[i] for i in rest],
            threshold=0.0,
            backend=backend,
        )
        right = np.array([truth[i] == t for i, (t, _) in zip(rest, found, strict=True)])
        draws.append((right, np.array([c for _, c in found])))
    out = {}
    for threshold in sorted({*THRESHOLDS, suggest.SORT_THRESHOLD}):
        correct = [r[c >= threshold].mean() if (c >= threshold).any() else 1.0 for r, c in draws]
        share = [(c >= threshold).mean() for _, c in draws]
        out[threshold] = (
            float(np.mean(correct)),
            float(np.mean(share)),
            float(min(correct)),
            float(min(share)),
        )
    return out


def many(count: int) -> list[str]:
    texts, _, _ = load_eval()
    return [
        f"{texts[i % len(texts)]} {VARIANTS[(i // len(texts)) % len(VARIANTS)]}".strip()
        for i in range(count)
    ]


def cold_load(backend_name: str) -> float:
    """Seconds a fresh process needs to import, load the model and embed one statement."""
    code = (
        "import time; t = time.perf_counter(); from models import embeddings; "
        f"embeddings._load({backend_name!r}).encode(['ครู']); print(time.perf_counter() - t)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def speed(backend_name: str, count: int) -> dict[str, float]:
    """Store latency and suggestion time on a fresh SQLite file, as the app runs them."""
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{folder}/bench.db")
        db.migrate(engine)
        workshop = workshops.create_workshop(
            engine,
            actor="bench",
            slug="bench",
            data=workshops.WorkshopInput(
                title="bench", starts_on=dt.date(2018, 3, 14), ends_on=dt.date(2018, 3, 16)
            ),
            groups=[f"กลุ่ม {n}" for n in range(1, 21)],
            domains=[("วิชาการ", ""), ("งบประมาณ", ""), ("บริหารงานบุคคล", ""), ("บริหารทั่วไป", "")],
            phase=Phase.COLLECT,
        )
        assert workshop.id is not None
        group = workshops.list_groups(engine, workshop.id)[0]
        domain = workshops.list_domains(engine, workshop.id)[0]
        who = Identity(Role.GROUP, workshop.id, group.id)
        texts = many(count)
        load_s = cold_load(backend_name)
        store = []
        for text in texts[:40]:
            started = time.perf_counter()
            issues.add_issue(
                engine,
                identity=who,
                data=issues.IssueInput(domain_id=domain.id, statement=f"{text} (ทดสอบ)"),  # type: ignore[arg-type]
            )
            store.append((time.perf_counter() - started) * 1000)
        names = [g.name for g in workshops.list_groups(engine, workshop.id)]
        df = pd.DataFrame(
            {
                "group": [names[i % len(names)] for i in range(count)],
                "domain": [
                    ["วิชาการ", "งบประมาณ", "บริหารงานบุคคล", "บริหารทั่วไป"][i % 4] for i in range(count)
                ],
                "text": texts,
            }
        )
        started = time.perf_counter()
        io_issues.import_issues(engine, actor="bench", workshop_id=workshop.id, df=df)
        import_s = time.perf_counter() - started
        runs, cpu_runs, dup_runs = [], [], []
        for _ in range(3):
            started, cpu = time.perf_counter(), time.process_time()
            result = suggest.suggest_for_workshop(engine, workshop.id)
            runs.append(time.perf_counter() - started)
            cpu_runs.append(time.process_time() - cpu)
            assert not result.missing, "vectors were stored at write time"
            started = time.perf_counter()
            suggest.duplicates_for_workshop(engine, workshop.id)
            dup_runs.append(time.perf_counter() - started)
        engine.dispose()
    store.sort()
    return {
        "load_s": load_s,
        "store_median_ms": statistics.median(store),
        "store_p95_ms": store[int(0.95 * (len(store) - 1))],
        "import_s": import_s,
        "suggest_s": statistics.median(runs),
        "suggest_cpu_s": statistics.median(cpu_runs),
        "suggest_k": result.k,
        "duplicates_s": statistics.median(dup_runs),
        "issues": count + len(store),
    }


def print_quality(extra: list[tuple[str, dict, dict]]) -> None:
    """The grouping and seeded-sorting tables (printed before the slow speed runs)."""
    print("Grouping with automatic k: Louvain (the app) against the spectral Ward cut\n")
    print(f"| backend | method | ARI | NMI | k | ARI mean ± sd, {SUBSAMPLES} × 85 % subsamples |")
    print("|---|---|---|---|---|---|")
    for name, found, _ in extra:
        for method, m in found.items():
            print(
                f"| {name} | {method} | {m['ari']:.3f} | {m['nmi']:.3f} | {m['k']:.0f} "
                f"| {m['mean']:.3f} ± {m['sd']:.3f} |"
            )
    print(
        f"\nSeeded sorting: {SEEDS_PER_THEME} seeds per theme, {SEED_DRAWS} draws; "
        f"the app's threshold is {suggest.SORT_THRESHOLD}\n"
    )
    print("| backend | threshold | correct among sorted (worst draw) | sorted (worst draw) |")
    print("|---|---|---|---|")
    for name, _, sorting in extra:
        for threshold, (correct, share, worst, fewest) in sorting.items():
            mark = " (app)" if threshold == suggest.SORT_THRESHOLD else ""
            print(
                f"| {name} | {threshold:.2f}{mark} | {correct:.1%} ({worst:.1%}) "
                f"| {share:.1%} ({fewest:.1%}) |"
            )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="use,e5,lexical")
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument(
        "--no-speed", action="store_true", help="Quality only (no 2,000-issue import)."
    )
    options = parser.parse_args()
    rows = []
    extra = []
    for name in options.backends.split(","):
        os.environ[embeddings.ENV] = name
        backend = embeddings.backend()
        if backend.fallback:
            print(f"{name}: not available ({backend.fallback})", file=sys.stderr)
            continue
        print(f"{name}: measuring …", file=sys.stderr, flush=True)
        vectors = backend.encode(load_eval()[0])
        extra.append((name, methods(backend, vectors), seeded(backend, vectors)))
    print_quality(extra)
    for name in [name for name, _, _ in extra] if not options.no_speed else []:
        os.environ[embeddings.ENV] = name
        rows.append((name, quality(embeddings.backend()), speed(name, options.issues)))
    if not rows:
        return
    print()
    print(
        "| backend | ARI auto-k | NMI | k | ARI within domain (k) | ARI told k=15 "
        "| deterministic | duplicate recall | false duplicates | store median / p95 "
        f"| import {options.issues} | suggest {options.issues}+40 | duplicates scan "
        "| model load (new process) |"
    )
    print("|" + "---|" * 14)
    for name, q, s in rows:
        print(
            f"| {name} | {q['cross_ari']:.2f} | {q['cross_nmi']:.2f} | {q['cross_k']} "
            f"| {q['within_ari']:.2f} ({q['within_k']}) | {q['told_ari']:.2f} "
            f"| {'yes' if q['deterministic'] else 'NO'} "
            f"| {q['dup_recall']:.0%} | {q['dup_false']} of {q['dup_pairs']} "
            f"| {s['store_median_ms']:.0f} / {s['store_p95_ms']:.0f} ms | {s['import_s']:.1f} s "
            f"| {s['suggest_s']:.2f} s, CPU {s['suggest_cpu_s']:.2f} s (k={s['suggest_k']}) "
            f"| {s['duplicates_s']:.2f} s "
            f"| {s['load_s']:.1f} s |"
        )


if __name__ == "__main__":
    main()
