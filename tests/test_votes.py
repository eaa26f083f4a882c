"""Dot votes against the group's budget (also under concurrency) and theme scores."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models import audit, db, phases, themes, undo, votes, workshops
from models.access import Identity
from models.errors import DomainError
from models.schema import AuditEvent, Phase, Role, Score, Theme, Vote, Workshop
from tests.factories import add_issue, group_identity

FACILITATOR = Identity(Role.FACILITATOR)
ORGANIZER = Identity(Role.ORGANIZER)


@dataclass
class Setup:
    workshop: Workshop
    themes: list[Theme]

    def theme_id(self, index: int) -> int:
        return self.themes[index].id  # type: ignore[return-value]


def voting_workshop(
    engine: Engine,
    *,
    themes_count: int = 3,
    budget: int = 5,
    per_theme: int = 3,
    groups: int = 3,
    groups_score: bool = False,
    slug: str = "vote-ws",
    with_issues: bool = False,
) -> Setup:
    """A workshop in the vote phase with `themes_count` themes (one issue each if asked)."""
    workshop = workshops.create_workshop(
        engine,
        actor="test",
        slug=slug,
        data=workshops.WorkshopInput(
            title="ทดสอบการลงคะแนน",
            starts_on=dt.date(2018, 3, 14),
            ends_on=dt.date(2018, 3, 16),
            vote_budget=budget,
            max_votes_per_theme=per_theme,
            groups_score=groups_score,
        ),
        groups=[f"กลุ่ม {n}" for n in range(1, groups + 1)],
        domains=[("วิชาการ", "Academic")],
        phase=Phase.COLLECT,
    )
    made = []
    for n in range(themes_count):
        issue_ids = []
        if with_issues:
            issue_ids = [add_issue(engine, workshop, group=n % groups, statement=f"ปัญหา {n}").id]
        made.append(
            themes.create_theme(
                engine,
                actor="facilitator",
                workshop_id=workshop.id,  # type: ignore[arg-type]
                title=f"ประเด็นหลัก {n}",
                issue_ids=issue_ids,  # type: ignore[arg-type]
            )
        )
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.VOTE)  # type: ignore[arg-type]
    return Setup(workshops.get_workshop(engine, workshop_id=workshop.id), made)


def vote_events(engine: Engine) -> list[AuditEvent]:
    with db.read(engine) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.action == "vote.cast")
                .order_by(col(AuditEvent.id))
            )
        )


def key_of(call) -> str | None:  # type: ignore[no-untyped-def]
    try:
        call()
    except DomainError as error:
        return error.key
    return None


# --- the budget rules, as a table --------------------------------------------------------

# Each step: ("set", theme, count) → cast_votes, or ("add", theme, delta) → change_votes,
# with the error key it must raise (None: accepted). Budget 5, at most 3 per theme.
BUDGET_CASES = [
    pytest.param([("set", 0, 3, None), ("set", 1, 2, None)], {0: 3, 1: 2}, id="spend-all"),
    pytest.param([("set", 0, 4, "error.vote.per_theme")], {}, id="per-theme-max"),
    pytest.param([("set", 0, 3, None), ("set", 1, 3, "error.vote.budget")], {0: 3}, id="over"),
    pytest.param(
        [("set", 0, 3, None), ("set", 1, 2, None), ("set", 2, 1, "error.vote.budget")],
        {0: 3, 1: 2},
        id="budget-spent",
    ),
    pytest.param(
        [("set", 0, 3, None), ("set", 1, 2, None), ("set", 0, 1, None), ("set", 2, 2, None)],
        {0: 1, 1: 2, 2: 2},
        id="move-votes",
    ),
    pytest.param(
        [("set", 0, 3, None), ("set", 1, 2, None), ("set", 1, 3, "error.vote.budget")],
        {0: 3, 1: 2},
        id="raise-without-lowering",
    ),
    pytest.param([("set", 0, 3, None), ("set", 0, 0, None)], {}, id="back-to-zero"),
    pytest.param([("set", 0, 2, None), ("set", 0, 2, None)], {0: 2}, id="same-twice"),
    pytest.param([("set", 0, -1, "error.vote.count")], {}, id="negative"),
    pytest.param([("set", 0, 1.5, "error.vote.count")], {}, id="not-whole"),
    pytest.param(
        [
            ("add", 0, 1, None),
            ("add", 0, 1, None),
            ("add", 0, 1, None),
            ("add", 0, 1, "error.vote.per_theme"),
        ],
        {0: 3},
        id="plus-to-per-theme-max",
    ),
    pytest.param(
        [("add", 0, 3, None), ("add", 1, 2, None), ("add", 2, 1, "error.vote.budget")],
        {0: 3, 1: 2},
        id="plus-past-budget",
    ),
    pytest.param(
        [("add", 0, 2, None), ("add", 0, -2, None), ("add", 0, -1, "error.vote.count")],
        {},
        id="minus-below-zero",
    ),
]


@pytest.mark.parametrize(("steps", "expected"), BUDGET_CASES)
def test_budget_rules(engine: Engine, steps, expected: dict[int, int]) -> None:
    setup = voting_workshop(engine)
    who = group_identity(engine, setup.workshop)
    accepted = 0
    for op, theme, n, error in steps:
        command = votes.cast_votes if op == "set" else votes.change_votes
        arg = "count" if op == "set" else "delta"
        found = key_of(
            partial(command, engine, identity=who, theme_id=setup.theme_id(theme), **{arg: n})
        )
        assert found == error, (op, theme, n)
        accepted += found is None
    want = {setup.theme_id(t): c for t, c in expected.items()}
    assert votes.group_votes(engine, who.group_id) == want  # type: ignore[arg-type]
    assert votes.votes_left(engine, who.group_id) == 5 - sum(expected.values())  # type: ignore[arg-type]
    events = vote_events(engine)
    assert len(events) == accepted  # one audit event per accepted command, none on refusal
    assert all(e.actor == who.actor and e.workshop_id == setup.workshop.id for e in events)


def test_votes_are_per_group_and_totalled(engine: Engine) -> None:
    setup = voting_workshop(engine)
    first, second = (group_identity(engine, setup.workshop, i) for i in (0, 1))
    votes.cast_votes(engine, identity=first, theme_id=setup.theme_id(0), count=3)
    votes.cast_votes(engine, identity=first, theme_id=setup.theme_id(1), count=2)
    votes.cast_votes(engine, identity=second, theme_id=setup.theme_id(0), count=3)  # own budget
    assert votes.vote_totals(engine, setup.workshop.id) == {  # type: ignore[arg-type]
        setup.theme_id(0): 6,
        setup.theme_id(1): 2,
    }
    assert votes.votes_left(engine, second.group_id) == 2  # type: ignore[arg-type]


def test_vote_audit_event_holds_the_change(engine: Engine) -> None:
    setup = voting_workshop(engine)
    who = group_identity(engine, setup.workshop)
    vote = votes.cast_votes(engine, identity=who, theme_id=setup.theme_id(0), count=2)
    votes.cast_votes(engine, identity=who, theme_id=setup.theme_id(0), count=1)
    created, changed = vote_events(engine)
    key = audit.row_key(vote)
    assert created.before == {"rows": {key: None}}
    assert created.after["rows"][key]["count"] == 2  # type: ignore[index]
    assert changed.before["rows"][key]["count"] == 2  # type: ignore[index]
    assert changed.after["rows"][key]["count"] == 1  # type: ignore[index]


@pytest.mark.parametrize("phase", [p for p in Phase if p is not Phase.VOTE])
def test_voting_closed_outside_the_vote_phase(engine: Engine, phase: Phase) -> None:
    setup = voting_workshop(engine)
    who = group_identity(engine, setup.workshop)
    votes.cast_votes(engine, identity=who, theme_id=setup.theme_id(0), count=1)
    phases.set_phase(engine, actor="t", workshop_id=setup.workshop.id, phase=phase)  # type: ignore[arg-type]
    for call in (
        lambda: votes.cast_votes(engine, identity=who, theme_id=setup.theme_id(0), count=2),
        lambda: votes.change_votes(engine, identity=who, theme_id=setup.theme_id(0), delta=-1),
    ):
        with pytest.raises(DomainError) as caught:
            call()
        assert (caught.value.key, caught.value.values) == ("error.phase.vote", {"phase": phase})
    assert votes.group_votes(engine, who.group_id) == {setup.theme_id(0): 1}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "identity",
    [FACILITATOR, ORGANIZER, Identity(Role.VIEWER, 1), Identity(Role.GROUP, 1, None)],
    ids=["facilitator", "organizer", "viewer", "group-without-id"],
)
def test_only_groups_vote(engine: Engine, identity: Identity) -> None:
    setup = voting_workshop(engine)
    assert (
        key_of(
            lambda: votes.cast_votes(engine, identity=identity, theme_id=setup.theme_id(0), count=1)
        )
        == "error.forbidden"
    )
    assert vote_events(engine) == []


@pytest.mark.parametrize("how", ["deleted", "merged", "other-workshop", "missing"])
def test_vote_needs_a_live_theme_of_the_groups_workshop(engine: Engine, how: str) -> None:
    setup = voting_workshop(engine)
    who = group_identity(engine, setup.workshop)
    theme_id = setup.theme_id(0)
    ws_id: int = setup.workshop.id  # type: ignore[assignment]
    if how == "deleted":
        themes.delete_theme(engine, actor="facilitator", workshop_id=ws_id, theme_id=theme_id)
    elif how == "merged":
        themes.merge_themes(
            engine,
            actor="facilitator",
            workshop_id=ws_id,
            source_id=theme_id,
            target_id=setup.theme_id(1),
        )
    elif how == "other-workshop":
        theme_id = voting_workshop(engine, slug="other-ws").theme_id(0)
    else:
        theme_id = 999_999
    found = key_of(lambda: votes.cast_votes(engine, identity=who, theme_id=theme_id, count=1))
    assert found == "error.not_found.theme"
    assert vote_events(engine) == []


def test_votes_on_a_deleted_theme_are_given_back(engine: Engine) -> None:
    setup = voting_workshop(engine)
    who = group_identity(engine, setup.workshop)
    ws_id: int = setup.workshop.id  # type: ignore[assignment]
    votes.cast_votes(engine, identity=who, theme_id=setup.theme_id(0), count=3)
    votes.cast_votes(engine, identity=who, theme_id=setup.theme_id(1), count=2)
    themes.delete_theme(engine, actor="facilitator", workshop_id=ws_id, theme_id=setup.theme_id(0))
    assert votes.votes_left(engine, who.group_id) == 3  # type: ignore[arg-type]
    assert votes.vote_totals(engine, ws_id) == {setup.theme_id(1): 2}
    votes.cast_votes(engine, identity=who, theme_id=setup.theme_id(2), count=3)
    # Undoing the delete brings the theme and its 3 votes back: 8 of 5. Raising is refused,
    # lowering is allowed, so the group can always get back under its budget.
    undo.undo_last(engine, actor="facilitator", workshop_id=ws_id)
    assert votes.votes_left(engine, who.group_id) == 0  # type: ignore[arg-type]
    assert (
        key_of(
            lambda: votes.change_votes(engine, identity=who, theme_id=setup.theme_id(1), delta=1)
        )
        == "error.vote.budget"
    )
    votes.change_votes(engine, identity=who, theme_id=setup.theme_id(0), delta=-1)
    assert votes.group_votes(engine, who.group_id)[setup.theme_id(0)] == 2  # type: ignore[arg-type]


# --- concurrency -----------------------------------------------------------------------------

CLIENTS = 50


@pytest.mark.parametrize(
    ("mode", "budget", "per_theme"),
    [("distinct-themes", 5, 3), ("same-theme", 5, 5), ("spread", 7, 3)],
)
def test_concurrent_votes_never_exceed_the_budget(
    engine: Engine, mode: str, budget: int, per_theme: int
) -> None:
    """50 clients of one group vote at once: exactly `budget` votes land, never more."""
    count = {"distinct-themes": CLIENTS, "same-theme": 1, "spread": 10}[mode]
    setup = voting_workshop(engine, themes_count=count, budget=budget, per_theme=per_theme)
    who = group_identity(engine, setup.workshop)
    start = threading.Barrier(CLIENTS)

    def client(n: int) -> str | None:
        theme_id = setup.theme_id(n % count)
        start.wait()
        if mode == "distinct-themes":
            return key_of(
                lambda: votes.cast_votes(engine, identity=who, theme_id=theme_id, count=1)
            )
        return key_of(lambda: votes.change_votes(engine, identity=who, theme_id=theme_id, delta=1))

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        outcomes = list(pool.map(client, range(CLIENTS)))  # any other exception fails here

    accepted = [o for o in outcomes if o is None]
    assert len(accepted) == budget
    assert {o for o in outcomes if o is not None} <= {"error.vote.budget", "error.vote.per_theme"}
    mine = votes.group_votes(engine, who.group_id)  # type: ignore[arg-type]
    assert sum(mine.values()) == budget
    assert max(mine.values()) <= per_theme
    assert votes.votes_left(engine, who.group_id) == 0  # type: ignore[arg-type]
    with db.read(engine) as session:
        rows = list(session.exec(select(Vote).where(Vote.group_id == who.group_id)))
    assert len(rows) == len({r.theme_id for r in rows})  # one row per (theme, group)
    assert len(vote_events(engine)) == budget


# --- scores --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("impact", "feasibility", "error"),
    [
        (1, 1, None),
        (5, 5, None),
        (3, 4, None),
        (0, 3, "error.score.range"),
        (6, 3, "error.score.range"),
        (3, 0, "error.score.range"),
        (3, 6, "error.score.range"),
        (-1, -1, "error.score.range"),
        (2.5, 3, "error.score.range"),
        (True, 3, "error.score.range"),
    ],
)
def test_score_range(engine: Engine, impact, feasibility, error: str | None) -> None:
    setup = voting_workshop(engine)
    found = key_of(
        lambda: votes.set_score(
            engine,
            identity=FACILITATOR,
            theme_id=setup.theme_id(0),
            impact=impact,
            feasibility=feasibility,
        )
    )
    assert found == error
    stored = votes.scores_by(engine, setup.workshop.id, "facilitator")  # type: ignore[arg-type]
    assert stored == ({} if error else {setup.theme_id(0): (impact, feasibility)})


@pytest.mark.parametrize(
    ("who", "groups_score", "error", "scorer"),
    [
        ("facilitator", False, None, "facilitator"),
        ("facilitator", True, None, "facilitator"),
        ("organizer", False, None, "facilitator"),
        ("group", True, None, "group"),
        ("group", False, "error.score.groups_off", None),
        ("viewer", True, "error.forbidden", None),
        ("viewer", False, "error.forbidden", None),
    ],
)
def test_who_may_score(engine: Engine, who: str, groups_score: bool, error, scorer) -> None:
    setup = voting_workshop(engine, groups_score=groups_score)
    identity = {
        "facilitator": FACILITATOR,
        "organizer": ORGANIZER,
        "group": group_identity(engine, setup.workshop),
        "viewer": Identity(Role.VIEWER, setup.workshop.id),
    }[who]
    found = key_of(
        lambda: votes.set_score(
            engine, identity=identity, theme_id=setup.theme_id(0), impact=4, feasibility=2
        )
    )
    assert found == error
    with db.read(engine) as session:
        rows = list(session.exec(select(Score)))
    if error:
        assert rows == []
    else:
        want = "facilitator" if scorer == "facilitator" else f"group:{identity.group_id}"
        assert [(r.scorer, r.impact, r.feasibility) for r in rows] == [(want, 4, 2)]


@pytest.mark.parametrize(
    ("phase", "open_"), [(p, p in (Phase.VOTE, Phase.RECOMMEND)) for p in Phase]
)
def test_scoring_phases(engine: Engine, phase: Phase, open_: bool) -> None:
    setup = voting_workshop(engine, groups_score=True)
    phases.set_phase(engine, actor="t", workshop_id=setup.workshop.id, phase=phase)  # type: ignore[arg-type]
    for identity in (FACILITATOR, group_identity(engine, setup.workshop)):
        found = key_of(
            lambda identity=identity: votes.set_score(
                engine, identity=identity, theme_id=setup.theme_id(0), impact=3, feasibility=3
            )
        )
        assert found == (None if open_ else "error.phase.score")


def test_score_is_replaced_not_added_and_staff_share_one_score(engine: Engine) -> None:
    setup = voting_workshop(engine)
    theme_id = setup.theme_id(0)
    votes.set_score(engine, identity=FACILITATOR, theme_id=theme_id, impact=2, feasibility=2)
    votes.set_score(engine, identity=ORGANIZER, theme_id=theme_id, impact=5, feasibility=4)
    assert votes.score_averages(engine, setup.workshop.id) == {theme_id: (5.0, 4.0, 1)}  # type: ignore[arg-type]
    with db.read(engine) as session:
        events = list(session.exec(select(AuditEvent).where(AuditEvent.action == "score.set")))
    assert [e.actor for e in events] == ["facilitator", "organizer"]
    # The facilitator's score is a staff action: undo puts the previous score back.
    undo.undo_last(engine, actor="facilitator", workshop_id=setup.workshop.id)  # type: ignore[arg-type]
    assert votes.score_averages(engine, setup.workshop.id) == {theme_id: (2.0, 2.0, 1)}  # type: ignore[arg-type]


def test_group_cannot_score_another_workshops_theme(engine: Engine) -> None:
    setup = voting_workshop(engine, groups_score=True)
    other = voting_workshop(engine, slug="other-ws", groups_score=True)
    who = group_identity(engine, setup.workshop)
    found = key_of(
        lambda: votes.set_score(
            engine, identity=who, theme_id=other.theme_id(0), impact=3, feasibility=3
        )
    )
    assert found == "error.not_found.theme"


def test_score_averages(engine: Engine) -> None:
    setup = voting_workshop(engine, groups_score=True)
    ws_id: int = setup.workshop.id  # type: ignore[assignment]
    first, second = (group_identity(engine, setup.workshop, i) for i in (0, 1))
    a, b, c = (setup.theme_id(i) for i in range(3))
    votes.set_score(engine, identity=FACILITATOR, theme_id=a, impact=4, feasibility=2)
    votes.set_score(engine, identity=first, theme_id=a, impact=2, feasibility=4)
    votes.set_score(engine, identity=second, theme_id=a, impact=3, feasibility=5)
    votes.set_score(engine, identity=first, theme_id=b, impact=1, feasibility=2)
    votes.set_score(engine, identity=first, theme_id=c, impact=5, feasibility=5)
    themes.delete_theme(engine, actor="facilitator", workshop_id=ws_id, theme_id=c)
    averages = votes.score_averages(engine, ws_id)
    assert averages == {a: (3.0, pytest.approx(11 / 3), 3), b: (1.0, 2.0, 1)}
    assert votes.scores_by(engine, ws_id, f"group:{first.group_id}") == {
        a: (2, 4),
        b: (1, 2),
        c: (5, 5),
    }


def test_limits_cannot_drop_below_votes_already_cast(engine: Engine) -> None:
    setup = voting_workshop(engine, budget=5, per_theme=3)
    who = group_identity(engine, setup.workshop)
    votes.cast_votes(engine, identity=who, theme_id=setup.theme_id(0), count=3)
    votes.cast_votes(engine, identity=who, theme_id=setup.theme_id(1), count=1)

    def update(budget: int, per_theme: int, title: str = "ทดสอบการลงคะแนน") -> str | None:
        stored = setup.workshop
        data = workshops.WorkshopInput(
            title=title,
            starts_on=stored.starts_on,
            ends_on=stored.ends_on,
            vote_budget=budget,
            max_votes_per_theme=per_theme,
        )
        ws_id: int = stored.id  # type: ignore[assignment]
        return key_of(
            lambda: workshops.update_workshop(engine, actor="o", workshop_id=ws_id, data=data)
        )

    assert update(3, 3) == "error.workshop.budget_below_cast"  # the group has cast 4
    assert update(5, 2) == "error.workshop.per_theme_below_cast"  # one theme holds 3
    assert workshops.get_workshop(engine, workshop_id=setup.workshop.id).vote_budget == 5
    assert update(4, 3) is None  # down to what is cast is fine
    # Once a group is over budget (an undone theme delete gives its votes back), other
    # edits of the workshop still go through.
    ws_id: int = setup.workshop.id  # type: ignore[assignment]
    themes.delete_theme(engine, actor="facilitator", workshop_id=ws_id, theme_id=setup.theme_id(1))
    votes.cast_votes(engine, identity=who, theme_id=setup.theme_id(2), count=1)
    undo.undo_last(engine, actor="facilitator", workshop_id=ws_id)  # 5 cast, budget 4
    assert update(4, 3, title="ชื่อใหม่") is None
