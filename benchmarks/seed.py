"""A big, realistic, deterministic workshop for benchmarks: built through the models' commands.

    from benchmarks.seed import seed_workshop
    workshop_id = seed_workshop(engine, groups=20, issues=2000)

20 groups (the demo's inspection regions), the demo's four domains, 2,000 Thai issues
imported in one transaction (with their stored vectors), themes holding about 70% of
them, every group's votes, facilitator scores, accepted and proposed recommendations.
Each page has data to show. The same arguments give the same texts, themes and votes.
Run directly it seeds a SQLite file and prints the workshop id:

    .venv/bin/python benchmarks/seed.py [--url sqlite:///tmp/big.db] [--issues 2000]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models import (  # noqa: E402
    db,
    demo,
    embeddings,
    io_issues,
    phases,
    recommendations,
    themes,
    votes,
    workshops,
)
from models.access import Identity  # noqa: E402
from models.schema import Phase, Role  # noqa: E402

ACTOR = "benchmark"
SOURCE = ROOT / "benchmarks" / "data" / "thai_problems.csv"
# Thai theme titles for the evaluation set's theme keys.
THEME_TITLES = {
    "teacher_shortage": "ครูไม่ครบชั้น ขาดครูวิชาเอก",
    "workload": "ภาระงานนอกการสอนของครู",
    "data_systems": "ระบบข้อมูลซ้ำซ้อน ไม่เชื่อมโยงกัน",
    "budget_late": "งบประมาณโอนล่าช้า",
    "operating_costs": "ค่าสาธารณูปโภคและงบดำเนินงานไม่พอ",
    "small_schools": "โรงเรียนขนาดเล็ก",
    "ict": "อินเทอร์เน็ตและคอมพิวเตอร์",
    "achievement": "ผลสัมฤทธิ์ทางการเรียนต่ำ",
    "transfers": "ครูย้ายบ่อย",
    "procurement": "ระเบียบพัสดุและการจัดซื้อจัดจ้าง",
    "command_structure": "สายการบังคับบัญชาซ้ำซ้อน",
    "dropout": "นักเรียนออกกลางคัน",
    "policy_changes": "นโยบายเปลี่ยนบ่อย",
    "buildings": "อาคารสถานที่ทรุดโทรม",
    "transport": "การเดินทางของนักเรียน",
}
# Endings that turn 180 statements into thousands of distinct, plausible ones.
VARIANTS = [
    "",
    "ในพื้นที่ของเรา",
    "โดยเฉพาะโรงเรียนในชนบท",
    "เป็นปัญหามาหลายปีแล้ว",
    "ส่งผลต่อคุณภาพการศึกษา",
    "ทั้งระดับประถมและมัธยม",
    "ตามที่หลายกลุ่มพบ",
    "ยังไม่มีใครแก้",
    "ต้องการการสนับสนุนจากส่วนกลาง",
    "ในเขตตรวจราชการนี้",
    "ซึ่งกระทบนักเรียนโดยตรง",
    "และผู้บริหารแก้เองไม่ได้",
    "โดยเฉพาะช่วงต้นปีงบประมาณ",
    "ในโรงเรียนขนาดกลาง",
]
CAUSES = [
    "อัตรากำลังไม่ได้รับการจัดสรรตามเกณฑ์",
    "ระเบียบและขั้นตอนมากเกินไป",
    "งบประมาณจำกัด",
    "ขาดการประสานงานระหว่างหน่วยงาน",
    "",
]
IMPACTS = [
    "ผลสัมฤทธิ์ทางการเรียนของนักเรียนลดลง",
    "ครูเหนื่อยล้าและขาดขวัญกำลังใจ",
    "โรงเรียนดำเนินโครงการไม่ทันตามแผน",
    "",
]
FIXES = ["ใช้เครือข่าย CLUSTER ช่วยกันแก้", "เสนอส่วนกลางทบทวนระเบียบ", "", ""]
LEVELS = ["school", "area", "cluster", "central"]
RECOMMENDATIONS = [
    ("cluster", "จัดตั้งเครือข่ายครูแกนนำใน CLUSTER แบ่งปันอัตรากำลัง", "ศึกษาธิการภาค", "1 ปี"),
    ("area", "สพป./สพม. จัดระบบข้อมูลกลางให้กรอกครั้งเดียว", "ผู้อำนวยการเขต", "6 เดือน"),
    ("school", "โรงเรียนจัดตารางลดงานนอกการสอนของครู", "ผู้อำนวยการโรงเรียน", "ภาคเรียนหน้า"),
    ("central", "สพฐ. โอนงบประมาณให้ทันต้นปีงบประมาณ", "สพฐ.", "ปีงบประมาณหน้า"),
]


def _source() -> list[dict[str, str]]:
    with SOURCE.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def issue_table(
    group_names: list[str], domain_names: list[str], count: int, rng: random.Random
) -> tuple[pd.DataFrame, list[str]]:
    """`count` import rows spread evenly over the groups, and each row's true theme key."""
    source = _source()
    known = set(domain_names)
    rows, truth = [], []
    for n in range(count):
        base = source[n % len(source)]
        variant = VARIANTS[(n // len(source)) % len(VARIANTS)]
        cycle = n // (len(source) * len(VARIANTS))  # past 2,520 rows: number the repeats
        statement = " ".join(p for p in (base["text"], variant) if p)
        if cycle:
            statement += f" (ครั้งที่ {cycle + 1})"
        domain = base["domain"] if base["domain"] in known else domain_names[n % len(domain_names)]
        rows.append(
            {
                "group": group_names[n % len(group_names)],
                "domain": domain,
                "text": statement,
                "cause": rng.choice(CAUSES),
                "impact": rng.choice(IMPACTS),
                "affected": ",".join(sorted(rng.sample(LEVELS, rng.randint(1, 2)))),
                "fix": rng.choice(FIXES),
            }
        )
        truth.append(base["theme"])
    return pd.DataFrame(rows), truth


@contextmanager
def _embeddings_setting(value: str | None) -> Iterator[None]:
    """Compute the stored vectors with `value` (None: the configured backend)."""
    old = os.environ.get(embeddings.ENV)
    if value is not None:
        os.environ[embeddings.ENV] = value
    try:
        yield
    finally:
        if value is not None:
            if old is None:
                os.environ.pop(embeddings.ENV, None)
            else:
                os.environ[embeddings.ENV] = old


def seed_workshop(
    engine: Engine,
    *,
    groups: int = 20,
    issues: int = 2000,
    grouped_share: float = 0.7,
    phase: Phase = Phase.COLLECT,
    revealed: bool = True,
    backend: str | None = "lexical",
    seed: int = 2561,
    slug: str | None = None,
) -> int:
    """Build the workshop and return its id.

    `phase` is where it is left (collect by default, so groups can go on adding issues);
    `revealed` lets every group read every issue (the heaviest group page). `backend` is
    the embeddings setting used for the stored vectors: `lexical` needs no model and
    takes a second for 2,000 issues; None uses `ROUNDTABLE_EMBEDDINGS`.
    """
    rng = random.Random(seed)
    spec = demo.read_definition()
    group_names = list(spec["groups"])[:groups]
    group_names += [f"กลุ่มที่ {n}" for n in range(len(group_names) + 1, groups + 1)]
    domains = [(d["name"], d.get("name_en", "")) for d in spec["domains"]]
    workshop = workshops.create_workshop(
        engine,
        actor=ACTOR,
        slug=slug or f"bench-{seed}-{time.time_ns() % 10**9}",
        data=workshops.WorkshopInput(
            title=spec["title"],
            venue=spec.get("venue", ""),
            starts_on=spec["starts_on"],
            ends_on=spec["ends_on"],
            vote_budget=5,
            max_votes_per_theme=3,
        ),
        groups=group_names,
        domains=domains,
        phase=Phase.COLLECT,
    )
    wid = workshop.id
    assert wid is not None
    df, truth = issue_table(group_names, [name for name, _ in domains], issues, rng)
    with _embeddings_setting(backend):
        io_issues.import_issues(engine, actor=ACTOR, workshop_id=wid, df=df)

    # Themes: most issues grouped under their true theme, the rest left for the facilitator.
    phases.set_phase(engine, actor=ACTOR, workshop_id=wid, phase=Phase.GROUP)
    board = themes.board(engine, wid)
    by_theme: dict[str, list[int]] = {}
    for issue, key in zip(board.ungrouped, truth, strict=True):  # both in import order
        if rng.random() < grouped_share:
            by_theme.setdefault(key, []).append(issue.id)  # type: ignore[arg-type]
    theme_ids: list[int] = []
    for key, ids in sorted(by_theme.items()):
        theme = themes.create_theme(
            engine, actor=ACTOR, workshop_id=wid, title=THEME_TITLES.get(key, key), issue_ids=ids
        )
        assert theme.id is not None
        theme_ids.append(theme.id)

    # Votes: each group spends its whole budget (2 + 2 + 1) on three themes.
    phases.set_phase(engine, actor=ACTOR, workshop_id=wid, phase=Phase.VOTE)
    staff = Identity(Role.FACILITATOR, wid)
    group_ids = [g.id for g in workshops.list_groups(engine, wid)]
    for group_id in group_ids:
        identity = Identity(Role.GROUP, wid, group_id)
        for theme_id, count in zip(rng.sample(theme_ids, 3), (2, 2, 1), strict=True):
            votes.cast_votes(engine, identity=identity, theme_id=theme_id, count=count)
    for theme_id in theme_ids:
        votes.set_score(
            engine,
            identity=staff,
            theme_id=theme_id,
            impact=rng.randint(1, 5),
            feasibility=rng.randint(1, 5),
        )

    # Recommendations: staff write some for the first five themes, groups propose more.
    phases.set_phase(engine, actor=ACTOR, workshop_id=wid, phase=Phase.RECOMMEND)
    for theme_id in theme_ids[:5]:
        for level, text, owner, timeframe in RECOMMENDATIONS:
            recommendations.add_recommendation(
                engine,
                identity=staff,
                theme_id=theme_id,
                data=recommendations.RecommendationInput(
                    level=level, text=text, owner=owner, timeframe=timeframe
                ),
            )
    for group_id in group_ids[:10]:
        level, text, owner, timeframe = rng.choice(RECOMMENDATIONS)
        recommendations.add_recommendation(
            engine,
            identity=Identity(Role.GROUP, wid, group_id),
            theme_id=rng.choice(theme_ids),
            data=recommendations.RecommendationInput(
                level=level, text=f"{text} (ข้อเสนอจากกลุ่ม)", owner=owner, timeframe=timeframe
            ),
        )

    phases.set_phase(engine, actor=ACTOR, workshop_id=wid, phase=phase)
    if revealed:
        phases.set_reveal(engine, actor=ACTOR, workshop_id=wid, revealed=True)
    return wid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=None, help="database URL (default: DATABASE_URL)")
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--phase", default="collect", choices=[p.value for p in Phase])
    args = parser.parse_args()
    engine = db.get_engine(args.url or db.database_url())
    started = time.perf_counter()
    wid = seed_workshop(engine, groups=args.groups, issues=args.issues, phase=Phase(args.phase))
    print(
        f"workshop {wid}: {args.groups} groups, {args.issues} issues, "
        f"{time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
