"""Recommendations: validation, phase rules, who may do what, undo, and ordering."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlmodel import select

from models import audit, db, phases, themes, undo
from models import recommendations as recs
from models.access import Identity
from models.errors import DomainError, Forbidden, NotFound
from models.recommendations import RecommendationInput
from models.schema import AuditEvent, Level, Phase, Recommendation, RecommendationStatus, Role
from tests.factories import add_issue, group_identity, make_workshop

STAFF = Identity(Role.FACILITATOR)
ORGANIZER = Identity(Role.ORGANIZER)
ACCEPTED, PROPOSED, REJECTED = (
    RecommendationStatus.ACCEPTED,
    RecommendationStatus.PROPOSED,
    RecommendationStatus.REJECTED,
)


def _data(text: str = "จัดสรรครูอัตราจ้างให้โรงเรียนขนาดเล็ก", **fields) -> RecommendationInput:
    return RecommendationInput(level=fields.pop("level", Level.AREA), text=text, **fields)


@contextmanager
def _refused(key: str, kind: type[DomainError] = DomainError) -> Iterator[None]:
    """The block raises `kind` carrying exactly the message key `key`."""
    with pytest.raises(kind) as caught:
        yield
    assert caught.value.key == key


def _phase(engine, workshop, phase: Phase) -> None:
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=phase)


@pytest.fixture
def seeded(engine):
    """A workshop in the recommend phase with two themes built from three groups' issues."""
    workshop = make_workshop(engine, groups=3)
    issues = [add_issue(engine, workshop, group=n, statement=f"ประเด็น {n}") for n in range(3)]
    made = [
        themes.create_theme(
            engine,
            actor="facilitator",
            workshop_id=workshop.id,
            title=title,
            issue_ids=[issue.id],
        )
        for title, issue in zip(("ครูไม่พอ", "งบประมาณล่าช้า"), issues, strict=False)
    ]
    _phase(engine, workshop, Phase.RECOMMEND)
    return engine, workshop, made


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"text": "  ครู\r\nไม่พอ  "}, {"text": "ครู\nไม่พอ", "owner": "", "priority": 2}),
        ({"level": "school"}, {"level": "school"}),
        ({"level": Level.CENTRAL}, {"level": "central"}),
        ({"owner": "  สพท.  ", "timeframe": "ภาคเรียนที่ 1/2561"}, {"owner": "สพท."}),
        ({"priority": 1}, {"priority": 1}),
        ({"priority": 3}, {"priority": 3}),
        ({"text": "ก" * 4000}, {"text": "ก" * 4000}),
        ({"owner": "ข" * 300, "timeframe": "ค" * 200}, {"timeframe": "ค" * 200}),
    ],
)
def test_validate_accepts(fields, expected) -> None:
    valid = recs.validate(_data(**fields))
    for name, value in expected.items():
        assert getattr(valid, name) == value


@pytest.mark.parametrize(
    ("fields", "key", "values"),
    [
        ({"text": "   "}, "error.text.required", {"field": "recommendation"}),
        ({"text": "ก" * 4001}, "error.text.too_long", {"field": "recommendation"}),
        ({"text": "a\x00b"}, "error.text.control", {"field": "recommendation"}),
        ({"text": "a\u202eb"}, "error.text.bidi", {"field": "recommendation"}),
        ({"owner": "ข" * 301}, "error.text.too_long", {"field": "owner", "max": 300}),
        ({"owner": "สพท.\nสพฐ."}, "error.text.control", {"field": "owner"}),
        ({"timeframe": "ค" * 201}, "error.text.too_long", {"field": "timeframe", "max": 200}),
        ({"level": "province"}, "error.recommendation.level", {"value": "province"}),
        ({"level": ""}, "error.recommendation.level", {"value": ""}),
        ({"priority": 0}, "error.recommendation.priority", {"value": 0}),
        ({"priority": 4}, "error.recommendation.priority", {"value": 4}),
    ],
)
def test_validate_refuses(fields, key, values) -> None:
    with pytest.raises(DomainError) as caught:
        recs.validate(_data(**fields))
    assert caught.value.key == key
    assert values.items() <= caught.value.values.items()


# --- phases -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "staff_may", "group_may"),
    [
        (Phase.SETUP, False, False),
        (Phase.COLLECT, False, False),
        (Phase.GROUP, False, False),
        (Phase.VOTE, False, False),
        (Phase.RECOMMEND, True, True),
        (Phase.PRESENT, True, False),
    ],
)
def test_phase_rules(seeded, phase, staff_may, group_may) -> None:
    engine, workshop, (theme, _) = seeded
    _phase(engine, workshop, phase)
    group = group_identity(engine, workshop)
    for identity, may, action in (
        (STAFF, staff_may, "edit_recommendation"),
        (group, group_may, "propose_recommendation"),
    ):
        if may:
            recs.add_recommendation(engine, identity=identity, theme_id=theme.id, data=_data())
        else:
            with pytest.raises(DomainError) as caught:
                recs.add_recommendation(engine, identity=identity, theme_id=theme.id, data=_data())
            assert caught.value.key == f"error.phase.{action}"
            assert caught.value.values == {"phase": phase.value}


def test_judging_and_deleting_follow_the_staff_phase_rule(seeded) -> None:
    engine, workshop, (theme, _) = seeded
    row = recs.add_recommendation(engine, identity=STAFF, theme_id=theme.id, data=_data())
    _phase(engine, workshop, Phase.VOTE)
    for command, extra in (
        (recs.set_status, {"status": REJECTED}),
        (recs.delete_recommendation, {}),
        (recs.edit_recommendation, {"data": _data("แก้")}),
    ):
        with _refused("error.phase.edit_recommendation", DomainError):
            command(engine, identity=STAFF, recommendation_id=row.id, **extra)
    _phase(engine, workshop, Phase.PRESENT)
    assert recs.set_status(engine, identity=STAFF, recommendation_id=row.id, status=REJECTED)


# --- who may do what -----------------------------------------------------------------------


def test_staff_add_accepted_and_groups_propose(seeded) -> None:
    engine, workshop, (theme, _) = seeded
    group = group_identity(engine, workshop, 1)
    mine = recs.add_recommendation(engine, identity=STAFF, theme_id=theme.id, data=_data())
    theirs = recs.add_recommendation(engine, identity=group, theme_id=theme.id, data=_data())
    by_organizer = recs.add_recommendation(
        engine, identity=ORGANIZER, theme_id=theme.id, data=_data(), workshop_id=workshop.id
    )
    assert (mine.status, mine.proposed_by_group_id) == (ACCEPTED, None)
    assert (theirs.status, theirs.proposed_by_group_id) == (PROPOSED, group.group_id)
    assert by_organizer.status == ACCEPTED
    assert {r.workshop_id for r in (mine, theirs, by_organizer)} == {workshop.id}
    with db.read(engine) as session:
        events = list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))
    added = [(e.actor, e.action, e.entity_id) for e in events if e.entity == "recommendation"]
    assert added == [
        ("facilitator", "recommendation.add", mine.id),
        (f"group:{group.group_id}", "recommendation.propose", theirs.id),
        ("organizer", "recommendation.add", by_organizer.id),
    ]
    assert events[-1].before == {"rows": {f"recommendation:{by_organizer.id}": None}}


def test_group_proposes_then_staff_accepts_edits_rejects(seeded) -> None:
    engine, workshop, (theme, _) = seeded
    group = group_identity(engine, workshop)
    row = recs.add_recommendation(engine, identity=group, theme_id=theme.id, data=_data())
    edited = recs.edit_recommendation(
        engine, identity=group, recommendation_id=row.id, data=_data("ฉบับแก้ของกลุ่ม")
    )
    assert (edited.text, edited.status) == ("ฉบับแก้ของกลุ่ม", PROPOSED)
    accepted = recs.set_status(engine, identity=STAFF, recommendation_id=row.id, status=ACCEPTED)
    assert accepted.status == ACCEPTED
    with _refused("error.recommendation.not_proposed", DomainError):
        recs.edit_recommendation(engine, identity=group, recommendation_id=row.id, data=_data("x"))
    staff_edit = recs.edit_recommendation(
        engine,
        identity=STAFF,
        recommendation_id=row.id,
        data=_data("ฉบับเรียบเรียง", level=Level.CLUSTER, owner="ผอ.เขต", priority=1),
    )
    assert (staff_edit.text, staff_edit.level, staff_edit.owner, staff_edit.priority) == (
        "ฉบับเรียบเรียง",
        "cluster",
        "ผอ.เขต",
        1,
    )
    assert staff_edit.status == ACCEPTED and staff_edit.proposed_by_group_id == group.group_id
    recs.set_status(engine, identity=STAFF, recommendation_id=row.id, status=REJECTED)
    (stored,) = recs.proposed_by_group(engine, group.group_id)
    assert (stored.status, stored.text) == (REJECTED, "ฉบับเรียบเรียง")


def test_group_cannot_touch_another_groups_proposal_or_judge(seeded) -> None:
    engine, workshop, (theme, _) = seeded
    owner, other = group_identity(engine, workshop, 0), group_identity(engine, workshop, 1)
    row = recs.add_recommendation(engine, identity=owner, theme_id=theme.id, data=_data())
    with pytest.raises(Forbidden) as caught:
        recs.edit_recommendation(engine, identity=other, recommendation_id=row.id, data=_data("x"))
    assert caught.value.key == "error.recommendation.not_yours"
    staff_row = recs.add_recommendation(engine, identity=STAFF, theme_id=theme.id, data=_data())
    with _refused("error.recommendation.not_yours", Forbidden):
        recs.edit_recommendation(
            engine, identity=owner, recommendation_id=staff_row.id, data=_data("x")
        )
    for who in (owner, other):
        with _refused("error.recommendation.staff_only", Forbidden):
            recs.set_status(engine, identity=who, recommendation_id=row.id, status=ACCEPTED)
        with _refused("error.recommendation.staff_only", Forbidden):
            recs.delete_recommendation(engine, identity=who, recommendation_id=row.id)
    (stored,) = recs.proposed_by_group(engine, owner.group_id)
    assert (stored.status, stored.text) == (PROPOSED, _data().text)


def test_viewers_may_do_nothing(seeded) -> None:
    engine, workshop, (theme, _) = seeded
    viewer = Identity(Role.VIEWER, workshop.id)
    with pytest.raises(Forbidden):
        recs.add_recommendation(engine, identity=viewer, theme_id=theme.id, data=_data())
    row = recs.add_recommendation(engine, identity=STAFF, theme_id=theme.id, data=_data())
    with pytest.raises(Forbidden):
        recs.edit_recommendation(engine, identity=viewer, recommendation_id=row.id, data=_data())


def test_theme_must_be_live_and_in_the_same_workshop(seeded) -> None:
    engine, workshop, (theme, doomed) = seeded
    other = make_workshop(engine, slug="other-ws", phase=Phase.RECOMMEND)
    stranger = group_identity(engine, other)
    with _refused("error.not_found.theme", NotFound):
        recs.add_recommendation(engine, identity=stranger, theme_id=theme.id, data=_data())
    with _refused("error.not_found.theme", NotFound):
        recs.add_recommendation(
            engine, identity=STAFF, theme_id=theme.id, data=_data(), workshop_id=other.id
        )
    themes.delete_theme(engine, actor="facilitator", workshop_id=workshop.id, theme_id=doomed.id)
    for who in (STAFF, group_identity(engine, workshop)):
        with _refused("error.not_found.theme", NotFound):
            recs.add_recommendation(engine, identity=who, theme_id=doomed.id, data=_data())
    with pytest.raises(NotFound):
        recs.add_recommendation(engine, identity=STAFF, theme_id=999_999, data=_data())
    row = recs.add_recommendation(engine, identity=STAFF, theme_id=theme.id, data=_data())
    with _refused("error.recommendation.not_found", DomainError):
        recs.edit_recommendation(engine, identity=stranger, recommendation_id=row.id, data=_data())
    with _refused("error.recommendation.not_found", DomainError):
        recs.set_status(
            engine, identity=STAFF, recommendation_id=row.id, status=ACCEPTED, workshop_id=other.id
        )


@pytest.mark.parametrize("status", ["proposed", "done", ""])
def test_set_status_only_accepts_or_rejects(seeded, status) -> None:
    engine, _, (theme, _) = seeded
    row = recs.add_recommendation(engine, identity=STAFF, theme_id=theme.id, data=_data())
    with pytest.raises(DomainError) as caught:
        recs.set_status(engine, identity=STAFF, recommendation_id=row.id, status=status)
    assert (caught.value.key, caught.value.values) == (
        "error.recommendation.status",
        {"value": status},
    )


def test_setting_the_same_status_twice_records_one_event(seeded) -> None:
    engine, workshop, (theme, _) = seeded
    row = recs.add_recommendation(engine, identity=STAFF, theme_id=theme.id, data=_data())
    for _ in range(2):
        recs.set_status(engine, identity=STAFF, recommendation_id=row.id, status=REJECTED)
    with db.read(engine) as session:
        actions = [e.action for e in audit.events(session, workshop.id)]
    assert actions.count("recommendation.status") == 1


# --- undo ---------------------------------------------------------------------------------


def _snapshot(engine, recommendation_id: int):
    with db.read(engine) as session:
        row = session.get(Recommendation, recommendation_id)
        return audit.snapshot(row) if row is not None else None


def test_staff_delete_is_undone_exactly(seeded) -> None:
    engine, workshop, (theme, _) = seeded
    group = group_identity(engine, workshop, 2)
    row = recs.add_recommendation(
        engine,
        identity=group,
        theme_id=theme.id,
        data=_data("เสนอ **ตัวหนา** <b>", owner="สพป.", timeframe="ปี 2561", priority=1),
    )
    recs.set_status(engine, identity=STAFF, recommendation_id=row.id, status=ACCEPTED)
    before = _snapshot(engine, row.id)
    recs.delete_recommendation(engine, identity=STAFF, recommendation_id=row.id)
    assert _snapshot(engine, row.id) is None
    assert recs.for_workshop(engine, workshop.id) == []
    undone = undo.undo_last(engine, actor="facilitator", workshop_id=workshop.id)
    assert undone.action == "recommendation.delete"
    assert _snapshot(engine, row.id) == before
    undone = undo.undo_last(engine, actor="facilitator", workshop_id=workshop.id)
    assert undone.action == "recommendation.status"
    assert _snapshot(engine, row.id)["status"] == PROPOSED


def test_staff_add_and_edit_are_undoable(seeded) -> None:
    engine, workshop, (theme, _) = seeded
    row = recs.add_recommendation(engine, identity=STAFF, theme_id=theme.id, data=_data())
    original = _snapshot(engine, row.id)
    recs.edit_recommendation(
        engine, identity=STAFF, recommendation_id=row.id, data=_data("ใหม่", priority=3)
    )
    undo.undo_last(engine, actor="facilitator", workshop_id=workshop.id)
    assert _snapshot(engine, row.id) == original
    undo.undo_last(engine, actor="facilitator", workshop_id=workshop.id)
    assert _snapshot(engine, row.id) is None


# --- queries ------------------------------------------------------------------------------


def test_by_theme_and_level_orders_levels_then_priority_then_id(seeded) -> None:
    engine, workshop, (first, second) = seeded
    group = group_identity(engine, workshop)
    made = {}
    for name, theme, level, priority, who in [
        ("a", first, Level.CENTRAL, 2, STAFF),
        ("b", first, Level.SCHOOL, 3, STAFF),
        ("c", first, Level.SCHOOL, 1, group),
        ("d", first, Level.SCHOOL, 3, STAFF),
        ("e", second, Level.CLUSTER, 2, STAFF),
        ("f", first, Level.AREA, 2, group),
    ]:
        made[name] = recs.add_recommendation(
            engine,
            identity=who,
            theme_id=theme.id,
            data=_data(name, level=level, priority=priority),
        )
    recs.set_status(engine, identity=STAFF, recommendation_id=made["f"].id, status=REJECTED)

    grouped = recs.by_theme_and_level(engine, workshop.id)
    as_text = {
        t: {lv: [r.text for r in rows] for lv, rows in levels.items()}
        for t, levels in grouped.items()
    }
    assert as_text == {
        first.id: {"school": ["c", "b", "d"], "area": ["f"], "central": ["a"]},
        second.id: {"cluster": ["e"]},
    }
    assert list(as_text[first.id]) == ["school", "area", "central"]  # Level order

    accepted = recs.by_theme_and_level(engine, workshop.id, statuses=[ACCEPTED])
    assert {t: list(levels) for t, levels in accepted.items()} == {
        first.id: ["school", "central"],
        second.id: ["cluster"],
    }
    assert [r.text for r in recs.for_workshop(engine, workshop.id, statuses=["proposed"])] == ["c"]
    assert [r.text for r in recs.proposed_by_group(engine, group.group_id)] == ["f", "c"]
    assert recs.by_theme_and_level(engine, workshop.id + 1000) == {}
