"""Stored proposals: kept per workshop until accepted or dismissed; applying is one undo."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models import backup, db, phases, proposals, suggest, themes, undo, views
from models.errors import DomainError
from models.schema import AuditEvent, Phase, Proposal, Workshop
from tests.factories import add_issue, make_workshop

TEACHERS = [
    "ครูไม่เพียงพอต่อจำนวนนักเรียน",
    "ขาดแคลนครูในโรงเรียนขนาดเล็ก",
    "ครูต้องสอนหลายวิชาเพราะครูไม่พอ",
    "โรงเรียนไม่มีครูคณิตศาสตร์",
]
BUDGET = [
    "งบประมาณซ่อมอาคารเรียนไม่เพียงพอ",
    "ได้รับงบประมาณล่าช้าทุกปี",
    "ไม่มีงบประมาณซื้อคอมพิวเตอร์",
    "งบประมาณค่าไฟฟ้าไม่พอจ่าย",
]
ACTOR, COLLEAGUE = "facilitator#aaaa", "facilitator#bbbb"


def _seeded(engine: Engine) -> tuple[Workshop, list[int], list[int]]:
    """A workshop with two themes of two issues each and four issues left to sort."""
    workshop = make_workshop(engine)
    ids = [
        add_issue(engine, workshop, group=n % 3, statement=s).id
        for n, s in enumerate(TEACHERS + BUDGET)
    ]
    teachers, budget = ids[:4], ids[4:]
    made = []
    for title, ids in (("ครูไม่พอ", teachers[:2]), ("งบประมาณ", budget[:2])):
        made.append(
            themes.create_theme(
                engine, actor=ACTOR, workshop_id=workshop.id, title=title, issue_ids=ids
            ).id
        )
    return workshop, made, teachers[2:] + budget[2:]


def _current(engine: Engine, workshop_id: int) -> dict[str, proposals.Stored]:
    return proposals.current(engine, workshop_id, views.version(engine, workshop_id))


def _theme_of(engine: Engine, workshop_id: int) -> dict[int, int | None]:
    board = themes.board(engine, workshop_id)
    found: dict[int, int | None] = {i.id: None for i in board.ungrouped}  # type: ignore[misc]
    for view in board.themes:
        found.update({i.id: view.theme.id for i in view.issues})  # type: ignore[misc]
    return found


def test_sort_proposal_is_stored_and_replaced_with_one_event_each(engine: Engine) -> None:
    workshop, made, rest = _seeded(engine)
    before = views.version(engine, workshop.id)
    stored = proposals.propose_sort(engine, actor=ACTOR, workshop_id=workshop.id, threshold=0.0)
    assert stored.board_version == before[0]  # made at the board its maker saw
    assert sorted(p.issue_id for p in stored.placements) == sorted(rest)
    assert all(p.theme_id in made for p in stored.placements)  # threshold 0: all placed
    # Another session (a second facilitator, a reload) reads the same from the database.
    proposals.current.cache_clear()
    seen = _current(engine, workshop.id)
    assert list(seen) == [proposals.SORT]
    assert seen[proposals.SORT].placements == stored.placements
    with db.read(engine) as session:
        event = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert event is not None and event.action == "suggest.propose_sort" and event.actor == ACTOR
    assert event.after == {"kind": "sort", "backend": stored.backend, "issues": 4, "sorted": 4}
    assert undo.next_undo(engine, workshop.id).action == "theme.create"  # nothing to undo
    again = proposals.propose_sort(engine, actor=COLLEAGUE, workshop_id=workshop.id)
    assert _current(engine, workshop.id)[proposals.SORT].id == again.id
    with db.read(engine) as session:  # the replaced one is gone: one row per kind
        assert len(session.exec(select(Proposal)).all()) == 1


def test_apply_sort_is_one_undoable_command_and_undo_brings_the_proposal_back(
    engine: Engine,
) -> None:
    workshop, made, rest = _seeded(engine)
    stored = proposals.propose_sort(engine, actor=ACTOR, workshop_id=workshop.id, threshold=0.0)
    moves = {p.issue_id: p.theme_id for p in stored.placements if p.issue_id != rest[0]}
    before = _theme_of(engine, workshop.id)
    moved = proposals.apply_sort(
        engine, actor=COLLEAGUE, workshop_id=workshop.id, proposal_id=stored.id, moves=moves
    )
    assert moved == 3
    after = _theme_of(engine, workshop.id)
    assert {i: after[i] for i in moves} == moves and after[rest[0]] is None  # unticked: stays
    event = undo.next_undo(engine, workshop.id)
    assert event is not None and event.action == "suggest.sort" and event.actor == COLLEAGUE
    assert len(event.before["rows"]) == 3  # type: ignore[index]  # the three issues, one event
    assert proposals.SORT not in _current(engine, workshop.id)  # decided: gone from the board
    with pytest.raises(DomainError) as refused:  # a second click, or a colleague's
        proposals.apply_sort(
            engine, actor=ACTOR, workshop_id=workshop.id, proposal_id=stored.id, moves=moves
        )
    assert refused.value.key == "error.proposal.gone"
    assert undo.undo_last(engine, actor=COLLEAGUE, workshop_id=workshop.id).id == event.id
    assert _theme_of(engine, workshop.id) == before  # one undo takes back the whole sorting
    back = _current(engine, workshop.id)[proposals.SORT]
    assert back.id == stored.id  # pending again, to review anew
    review = proposals.review_sort(back, {i for i, t in before.items() if t is None}, made)
    assert review.gone == 0 and review.proposed == 4


def test_a_proposal_shows_what_still_applies_and_refuses_what_moved(engine: Engine) -> None:
    workshop, made, rest = _seeded(engine)
    stored = proposals.propose_sort(engine, actor=ACTOR, workshop_id=workshop.id, threshold=0.0)
    elsewhere = next(t for t in made if t != stored.placements[0].theme_id)
    themes.move_issues(
        engine, actor=COLLEAGUE, workshop_id=workshop.id, issue_ids=[rest[0]], theme_id=elsewhere
    )
    ungrouped = {i for i, t in _theme_of(engine, workshop.id).items() if t is None}
    review = proposals.review_sort(stored, ungrouped, made)
    assert review.gone == 1 and review.proposed == 3
    assert rest[0] not in {p.issue_id for ps in review.by_theme.values() for p in ps}
    everything = {p.issue_id: p.theme_id for p in stored.placements}
    with pytest.raises(DomainError) as stale:  # the colleague's move is not overwritten
        proposals.apply_sort(
            engine, actor=ACTOR, workshop_id=workshop.id, proposal_id=stored.id, moves=everything
        )
    assert stale.value.key == "error.suggest.stale"
    other = next(t for t in made if t != everything[rest[1]])
    with pytest.raises(DomainError) as invented:  # only the proposed theme, not another
        proposals.apply_sort(
            engine,
            actor=ACTOR,
            workshop_id=workshop.id,
            proposal_id=stored.id,
            moves={rest[1]: other},
        )
    assert invented.value.key == "error.suggest.stale"
    themes.delete_theme(engine, actor=COLLEAGUE, workshop_id=workshop.id, theme_id=elsewhere)
    ungrouped = {i for i, t in _theme_of(engine, workshop.id).items() if t is None}
    review = proposals.review_sort(stored, ungrouped, [t for t in made if t != elsewhere])
    assert elsewhere not in review.by_theme
    assert _theme_of(engine, workshop.id)[rest[1]] is None  # nothing moved by the refusals


def test_sort_needs_seeds_the_phase_and_a_choice(engine: Engine) -> None:
    workshop, _, _ = _seeded(engine)
    assert proposals.can_sort(themes.board(engine, workshop.id))
    stored = proposals.propose_sort(engine, actor=ACTOR, workshop_id=workshop.id, threshold=0.0)
    with pytest.raises(DomainError) as empty:
        proposals.apply_sort(
            engine, actor=ACTOR, workshop_id=workshop.id, proposal_id=stored.id, moves={}
        )
    assert empty.value.key == "error.proposal.none"
    phases.set_phase(engine, actor=ACTOR, workshop_id=workshop.id, phase=Phase.PRESENT)
    moves = {p.issue_id: p.theme_id for p in stored.placements}
    with pytest.raises(DomainError) as closed:
        proposals.apply_sort(
            engine, actor=ACTOR, workshop_id=workshop.id, proposal_id=stored.id, moves=moves
        )
    assert closed.value.key == "error.phase.group_themes"
    fresh = make_workshop(engine, slug="no-themes")
    add_issue(engine, fresh, statement=TEACHERS[0])
    assert not proposals.can_sort(themes.board(engine, fresh.id))  # no theme to sort into


def test_suggested_themes_are_kept_accepted_as_one_undo_and_dismissed(engine: Engine) -> None:
    workshop = make_workshop(engine)
    for n, statement in enumerate(TEACHERS + BUDGET):
        add_issue(engine, workshop, group=n % 3, statement=statement)
    stored = proposals.propose_themes(engine, actor=ACTOR, workshop_id=workshop.id, k=2)
    proposals.current.cache_clear()
    seen = _current(engine, workshop.id)[proposals.THEMES]
    assert [t.issue_ids for t in seen.suggestions.themes] == [
        t.issue_ids for t in stored.suggestions.themes
    ]
    first = seen.suggestions.themes[0]
    assert first.name and first.keywords  # a name to show, keywords beside it
    created = proposals.accept_themes(
        engine,
        actor=COLLEAGUE,
        workshop_id=workshop.id,
        proposal_id=seen.id,
        accepted=[suggest.Accepted("ครูและบุคลากร", first.issue_ids)],
    )
    assert [t.title for t in created] == ["ครูและบุคลากร"]
    assert proposals.THEMES not in _current(engine, workshop.id)
    assert undo.next_undo(engine, workshop.id).action == "suggest.accept"
    undo.undo_last(engine, actor=COLLEAGUE, workshop_id=workshop.id)
    assert themes.board(engine, workshop.id).themes == []
    back = _current(engine, workshop.id)[proposals.THEMES]
    assert back.id == seen.id
    proposals.dismiss(engine, actor=ACTOR, workshop_id=workshop.id, proposal_id=back.id)
    assert proposals.THEMES not in _current(engine, workshop.id)
    assert undo.next_undo(engine, workshop.id) is None  # dismissing changed no theme or issue
    with pytest.raises(DomainError) as gone:
        proposals.accept_themes(
            engine,
            actor=COLLEAGUE,
            workshop_id=workshop.id,
            proposal_id=back.id,
            accepted=[suggest.Accepted("ครู", first.issue_ids)],
        )
    assert gone.value.key == "error.proposal.gone"
    with pytest.raises(DomainError) as twice:
        proposals.dismiss(engine, actor=ACTOR, workshop_id=workshop.id, proposal_id=back.id)
    assert twice.value.key == "error.proposal.gone"


def test_review_of_themes_keeps_only_ungrouped_issues(engine: Engine) -> None:
    workshop = make_workshop(engine)
    for n, statement in enumerate(TEACHERS + BUDGET):
        add_issue(engine, workshop, group=n % 3, statement=statement)
    stored = proposals.propose_themes(engine, actor=ACTOR, workshop_id=workshop.id, k=2)
    first = stored.suggestions.themes[0]
    themes.create_theme(
        engine, actor=COLLEAGUE, workshop_id=workshop.id, title="ก", issue_ids=first.issue_ids[:1]
    )
    ungrouped = {i for i, t in _theme_of(engine, workshop.id).items() if t is None}
    review = proposals.review_themes(stored, ungrouped)
    assert review.gone == 1
    remaining = [theme for n, theme in review.themes if n == 0]
    if remaining:  # the rest of the first theme, its central statement among them
        assert first.issue_ids[0] not in remaining[0].issue_ids
        assert remaining[0].central_id in remaining[0].issue_ids
    else:  # it had only that issue
        assert first.issue_ids == first.issue_ids[:1]
    with pytest.raises(DomainError) as stale:
        proposals.accept_themes(
            engine,
            actor=ACTOR,
            workshop_id=workshop.id,
            proposal_id=stored.id,
            accepted=[suggest.Accepted("ครู", first.issue_ids)],
        )
    assert stale.value.key == "error.suggest.stale"


def test_review_of_a_sorting_lists_the_unsure_and_orders_by_confidence() -> None:
    stored = proposals.Stored(
        1, proposals.SORT, 7, ACTOR, "use", dt.datetime.now(dt.UTC),
        {"threshold": 0.5, "placements": [[1, 10, 0.6], [2, 10, 0.9], [3, None, 0.3],
                                          [4, 20, 0.8], [5, 30, 0.95], [6, 10, 0.7]]},
    )  # fmt: skip
    review = proposals.review_sort(stored, {1, 2, 3, 4, 5}, [20, 10])  # 6 grouped, 30 removed
    assert list(review.by_theme) == [20, 10]  # the board's order
    assert [p.issue_id for p in review.by_theme[10]] == [2, 1]  # surest first
    assert [p.issue_id for p in review.unsure] == [3] and review.gone == 2
    assert review.proposed == 3 and stored.threshold == 0.5


def test_backup_and_restore_leave_proposals_out_and_keep_their_events(
    engine: Engine, sqlite_template: Path, tmp_path: Path
) -> None:
    """Proposals are derived: a backup carries their events, not them, and restores."""
    workshop, _, _ = _seeded(engine)
    stored = proposals.propose_sort(engine, actor=ACTOR, workshop_id=workshop.id, threshold=0.0)
    proposals.apply_sort(
        engine,
        actor=ACTOR,
        workshop_id=workshop.id,
        proposal_id=stored.id,
        moves={p.issue_id: p.theme_id for p in stored.placements[:2]},  # type: ignore[misc]
    )
    proposals.propose_themes(engine, actor=ACTOR, workshop_id=workshop.id, k=2)
    data = backup.backup_json(engine, workshop.id)
    shutil.copyfile(sqlite_template, tmp_path / "empty.db")
    other = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    copy = backup.restore_json(other, data, actor="organizer")
    assert backup.backup_json(other, copy.id) == data  # the same bytes back
    assert _current(other, copy.id) == {}  # no proposal came along: make one again
    assert undo.next_undo(other, copy.id).action == "suggest.sort"  # type: ignore[arg-type, union-attr]
    undo.undo_last(other, actor=ACTOR, workshop_id=copy.id)  # type: ignore[arg-type]
    assert len(themes.board(other, copy.id).ungrouped) == 4  # type: ignore[arg-type]
    other.dispose()
