"""Room progress: per group, issues per domain, votes used of the budget, recommendations."""

from __future__ import annotations

import pytest

from models import issues, phases, progress, recommendations, themes, views, votes
from models.recommendations import RecommendationInput
from models.schema import Phase
from tests.factories import add_issue, group_identity, make_workshop

# (issues as (group, domain), votes as (group, theme index, count), proposals by group,
#  expected per group: ({domain index: issues}, votes used, recommendations))
CASES = [
    pytest.param([], [], [], [({}, 0, 0), ({}, 0, 0), ({}, 0, 0)], id="nothing-yet"),
    pytest.param(
        [(0, 0), (0, 0), (0, 1), (2, 1)],
        [],
        [],
        [({0: 2, 1: 1}, 0, 0), ({}, 0, 0), ({1: 1}, 0, 0)],
        id="issues-per-domain",
    ),
    pytest.param(
        [(0, 0), (1, 1)],
        [(0, 0, 3), (0, 1, 1), (1, 1, 2)],
        [],
        [({0: 1}, 4, 0), ({1: 1}, 2, 0), ({}, 0, 0)],
        id="votes-used",
    ),
    pytest.param(
        [(0, 0), (1, 1)],
        [(2, 0, 1)],
        [1, 1, 2],
        [({0: 1}, 0, 0), ({1: 1}, 0, 2), ({}, 1, 1)],
        id="recommendations-proposed",
    ),
]


@pytest.mark.parametrize(("entered", "cast", "proposed", "expected"), CASES)
def test_progress_counts(engine, entered, cast, proposed, expected) -> None:
    workshop = make_workshop(engine, groups=3)
    ws = workshop.id
    for group, domain in entered:
        add_issue(engine, workshop, group=group, domain=domain)
    anchor = [add_issue(engine, workshop, group=0, statement="หลัก").id]  # themes need issues
    first = {**expected[0][0], 0: expected[0][0].get(0, 0) + 1}  # the anchor issue
    expected = [(first, *expected[0][1:]), *expected[1:]]
    phases.set_phase(engine, actor="facilitator", workshop_id=ws, phase=Phase.GROUP)
    made = [
        themes.create_theme(engine, actor="facilitator", workshop_id=ws, title=f"ธีม {n}").id
        for n in range(2)
    ]
    themes.move_issues(
        engine, actor="facilitator", workshop_id=ws, issue_ids=anchor, theme_id=made[0]
    )
    phases.set_phase(engine, actor="facilitator", workshop_id=ws, phase=Phase.VOTE)
    for group, theme, count in cast:
        votes.cast_votes(
            engine,
            identity=group_identity(engine, workshop, group),
            theme_id=made[theme],
            count=count,
        )
    phases.set_phase(engine, actor="facilitator", workshop_id=ws, phase=Phase.RECOMMEND)
    for group in proposed:
        recommendations.add_recommendation(
            engine,
            identity=group_identity(engine, workshop, group),
            theme_id=made[0],
            data=RecommendationInput(level="school", text="ข้อเสนอ"),
        )
    found = progress.progress(engine, ws)
    domain_ids = [d[0] for d in found.domains]
    assert found.vote_budget == workshop.vote_budget
    assert [
        (
            {domain_ids.index(d): n for d, n in g.issues.items()},
            g.votes_used,
            g.recommendations,
        )
        for g in found.groups
    ] == expected


def test_deleted_issues_and_votes_on_retired_themes_do_not_count(engine) -> None:
    workshop = make_workshop(engine, groups=2)
    ws = workshop.id
    first = add_issue(engine, workshop, group=0)
    gone = add_issue(engine, workshop, group=0, statement="ลบทิ้ง")
    issues.delete_issue(engine, identity=group_identity(engine, workshop, 0), issue_id=gone.id)
    phases.set_phase(engine, actor="facilitator", workshop_id=ws, phase=Phase.GROUP)
    a = themes.create_theme(engine, actor="f", workshop_id=ws, title="ก", issue_ids=[first.id])
    b = themes.create_theme(engine, actor="f", workshop_id=ws, title="ข")
    phases.set_phase(engine, actor="facilitator", workshop_id=ws, phase=Phase.VOTE)
    group = group_identity(engine, workshop, 1)
    votes.cast_votes(engine, identity=group, theme_id=a.id, count=2)
    votes.cast_votes(engine, identity=group, theme_id=b.id, count=1)
    themes.delete_theme(engine, actor="f", workshop_id=ws, theme_id=b.id)
    found = progress.progress(engine, ws)
    assert [g.issue_total for g in found.groups] == [1, 0]
    assert [g.votes_used for g in found.groups] == [0, 2]  # as the budget counts them
    assert (found.started, found.voted) == (1, 1)
    labels = {d[0]: d[1] for d in found.domains}
    assert found.rows(labels) == [
        {"group": "กลุ่ม 1", "วิชาการ": 1, "งบประมาณ": "·", "total": 1, "votes": "0/5",
         "recommendations": 0},
        {"group": "กลุ่ม 2", "วิชาการ": "·", "งบประมาณ": "·", "total": 0, "votes": "2/5",
         "recommendations": 0},
    ]  # fmt: skip


def test_shared_per_version(engine) -> None:
    workshop = make_workshop(engine, groups=2)
    version = views.version(engine, workshop.id)
    first = progress.at_version(engine, workshop.id, version)
    assert progress.at_version(engine, workshop.id, version) is first
    add_issue(engine, workshop, group=1)
    newer = progress.at_version(engine, workshop.id, views.version(engine, workshop.id))
    assert [g.issue_total for g in newer.groups] == [0, 1]
