"""The theme board: create, move, merge, split, duplicates, moderation — and undo of each."""

from __future__ import annotations

import pytest

from models import phases, themes, undo, views
from models.errors import DomainError
from models.schema import Phase
from tests.factories import add_issue, make_workshop


@pytest.fixture
def seeded(engine):
    """A workshop in the group phase with six issues from three groups."""
    workshop = make_workshop(engine, groups=3)
    made = [
        add_issue(engine, workshop, group=n % 3, statement=f"ประเด็น {n}", domain=n % 2)
        for n in range(6)
    ]
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.GROUP)
    return engine, workshop, [i.id for i in made]


def _state(engine, workshop_id):
    """What the board shows, as plain data: compare before and after an undo."""
    board = themes.board(engine, workshop_id)
    return (
        sorted((v.theme.id, v.theme.title, sorted(i.id for i in v.issues)) for v in board.themes),
        sorted(i.id for i in board.ungrouped),
        sorted((i.id, i.hidden_reason, i.duplicate_of_id) for i in board.hidden + board.ungrouped),
    )


def test_create_theme_records_provenance(seeded) -> None:
    engine, workshop, ids = seeded
    theme = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="  ครูไม่พอ ", issue_ids=ids[:4]
    )
    board = themes.board(engine, workshop.id)
    (view,) = board.themes
    assert view.theme.title == "ครูไม่พอ"
    assert view.issue_count == 4
    assert len(view.group_ids) == 3  # raised by 3 of 3 groups
    assert board.group_count == 3
    assert sorted(i.id for i in board.ungrouped) == ids[4:]
    assert theme.id == view.theme.id


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"title": ""}, "error.text.required"),
        ({"title": "x" * 301}, "error.text.too_long"),
        ({"title": "ok", "issue_ids": [999_999]}, "error.not_found.issue"),
    ],
)
def test_create_theme_refused(seeded, kwargs, key) -> None:
    engine, workshop, _ = seeded
    with pytest.raises(DomainError) as caught:
        themes.create_theme(engine, actor="facilitator", workshop_id=workshop.id, **kwargs)
    assert caught.value.key == key
    assert themes.board(engine, workshop.id).themes == []


@pytest.mark.parametrize("phase", [Phase.SETUP, Phase.PRESENT])
def test_board_closed_in_setup_and_present(seeded, phase) -> None:
    engine, workshop, _ = seeded
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=phase)
    with pytest.raises(DomainError, match="group_themes"):
        themes.create_theme(engine, actor="facilitator", workshop_id=workshop.id, title="x")


def test_issue_of_another_workshop_is_refused(seeded) -> None:
    engine, workshop, _ = seeded
    other = make_workshop(engine, slug="other")
    foreign = add_issue(engine, other)
    with pytest.raises(DomainError, match="not_found"):
        themes.create_theme(
            engine, actor="facilitator", workshop_id=workshop.id, title="x", issue_ids=[foreign.id]
        )


def _op_create(engine, ws, ids, t1, t2):
    themes.create_theme(engine, actor="facilitator", workshop_id=ws, title="ใหม่", issue_ids=ids[4:])


def _op_rename(engine, ws, ids, t1, t2):
    themes.update_theme(
        engine, actor="facilitator", workshop_id=ws, theme_id=t1, title="ชื่อใหม่", description="d"
    )


def _op_move_in(engine, ws, ids, t1, t2):
    themes.move_issues(engine, actor="facilitator", workshop_id=ws, issue_ids=ids[4:], theme_id=t2)


def _op_move_out(engine, ws, ids, t1, t2):
    themes.move_issues(
        engine, actor="facilitator", workshop_id=ws, issue_ids=ids[:2], theme_id=None
    )


def _op_merge(engine, ws, ids, t1, t2):
    themes.merge_themes(engine, actor="facilitator", workshop_id=ws, source_id=t1, target_id=t2)


def _op_split(engine, ws, ids, t1, t2):
    themes.split_theme(
        engine, actor="facilitator", workshop_id=ws, theme_id=t1, issue_ids=[ids[0]], title="แยก"
    )


def _op_delete(engine, ws, ids, t1, t2):
    themes.delete_theme(engine, actor="facilitator", workshop_id=ws, theme_id=t1)


def _op_duplicates(engine, ws, ids, t1, t2):
    themes.mark_duplicates(
        engine,
        actor="facilitator",
        workshop_id=ws,
        original_id=ids[0],
        duplicate_ids=[ids[4], ids[5]],
    )


def _op_hide(engine, ws, ids, t1, t2):
    themes.hide_issues(
        engine, actor="facilitator", workshop_id=ws, issue_ids=[ids[1]], reason="ไม่เกี่ยวข้อง"
    )


def _op_phase(engine, ws, ids, t1, t2):
    phases.set_phase(engine, actor="facilitator", workshop_id=ws, phase=Phase.VOTE)


@pytest.mark.parametrize(
    "operation",
    [
        _op_create,
        _op_rename,
        _op_move_in,
        _op_move_out,
        _op_merge,
        _op_split,
        _op_delete,
        _op_duplicates,
        _op_hide,
        _op_phase,
    ],
)
def test_every_board_action_is_undone_exactly(seeded, operation) -> None:
    engine, workshop, ids = seeded
    t1 = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="หนึ่ง", issue_ids=ids[:2]
    ).id
    t2 = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="สอง", issue_ids=ids[2:4]
    ).id
    before = _state(engine, workshop.id)
    phase_before = themes.board(engine, workshop.id).workshop.phase
    operation(engine, workshop.id, ids, t1, t2)
    assert _state(engine, workshop.id) != before or operation is _op_phase
    undone = undo.undo_last(engine, actor="facilitator", workshop_id=workshop.id)
    assert undone.undone_at is not None
    assert _state(engine, workshop.id) == before
    assert themes.board(engine, workshop.id).workshop.phase == phase_before


def test_undo_steps_back_one_at_a_time_and_loses_no_issue(seeded) -> None:
    engine, workshop, ids = seeded
    start = _state(engine, workshop.id)
    a = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ก", issue_ids=ids[:3]
    ).id
    b = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ข", issue_ids=ids[3:]
    ).id
    themes.merge_themes(
        engine, actor="facilitator", workshop_id=workshop.id, source_id=a, target_id=b
    )
    after_two = None
    for expected_action in ("theme.merge", "theme.create", "theme.create"):
        assert undo.next_undo(engine, workshop.id).action == expected_action
        undo.undo_last(engine, actor="facilitator", workshop_id=workshop.id)
        board = themes.board(engine, workshop.id)
        assert sorted(i.id for v in board.themes for i in v.issues) + sorted(
            i.id for i in board.ungrouped
        ) == sorted(ids)  # every issue is still somewhere
        if expected_action == "theme.merge":
            after_two = _state(engine, workshop.id)
    assert after_two is not None
    assert _state(engine, workshop.id) == start
    assert undo.next_undo(engine, workshop.id).action == "phase.set"


def test_group_actions_are_not_undone_and_block_a_conflicting_undo(seeded) -> None:
    from models import issues
    from models.issues import IssueInput
    from tests.factories import group_identity

    engine, workshop, ids = seeded
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.COLLECT)
    themes.move_issues(
        engine, actor="facilitator", workshop_id=workshop.id, issue_ids=[ids[0]], theme_id=None
    )
    t = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ก", issue_ids=[ids[0]]
    )
    # The group then moves on: it edits its issue (a group action, never undone).
    issue = issues.group_issues(engine, group_identity(engine, workshop, 0).group_id)[-1]
    assert issue.id == ids[0]
    issues.edit_issue(
        engine,
        identity=group_identity(engine, workshop, 0),
        issue_id=ids[0],
        data=IssueInput(domain_id=issue.domain_id, statement="แก้โดยกลุ่ม"),
    )
    undo.undo_last(engine, actor="facilitator", workshop_id=workshop.id)  # theme.create: fine
    assert themes.board(engine, workshop.id).themes == []
    assert issues.group_issues(engine, issue.group_id)[-1].statement == "แก้โดยกลุ่ม"
    assert t.id is not None


def test_undo_with_nothing_to_undo(engine) -> None:
    workshop = make_workshop(engine)
    with pytest.raises(DomainError, match="nothing"):
        undo.undo_last(engine, actor="facilitator", workshop_id=workshop.id)


def test_hidden_issue_leaves_board_and_returns(seeded) -> None:
    engine, workshop, ids = seeded
    themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ก", issue_ids=ids[:2]
    )
    themes.hide_issues(
        engine, actor="facilitator", workshop_id=workshop.id, issue_ids=[ids[0]], reason="ซ้ำ"
    )
    board = themes.board(engine, workshop.id)
    assert [i.id for i in board.hidden] == [ids[0]]
    assert board.hidden[0].hidden_reason == "ซ้ำ"
    assert [i.id for i in board.themes[0].issues] == [ids[1]]
    with pytest.raises(DomainError, match="required"):
        themes.hide_issues(
            engine, actor="facilitator", workshop_id=workshop.id, issue_ids=[ids[1]], reason=" "
        )
    themes.unhide_issue(engine, actor="facilitator", workshop_id=workshop.id, issue_id=ids[0])
    assert themes.board(engine, workshop.id).hidden == []


def test_split_only_takes_issues_of_that_theme(seeded) -> None:
    engine, workshop, ids = seeded
    t = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ก", issue_ids=ids[:2]
    )
    with pytest.raises(DomainError, match="not_in_theme"):
        themes.split_theme(
            engine,
            actor="facilitator",
            workshop_id=workshop.id,
            theme_id=t.id,
            issue_ids=[ids[3]],
            title="x",
        )
    with pytest.raises(DomainError, match="merge_self"):
        themes.merge_themes(
            engine, actor="facilitator", workshop_id=workshop.id, source_id=t.id, target_id=t.id
        )


def test_board_with_two_thousand_issues(engine) -> None:
    import pandas as pd

    from models import io_issues

    workshop = make_workshop(engine, groups=20)
    rows = [
        {"group": f"กลุ่ม {n % 20 + 1}", "domain": "วิชาการ", "text": f"ปัญหาที่ {n}"}
        for n in range(2000)
    ]
    assert (
        io_issues.import_issues(engine, actor="cli", workshop_id=workshop.id, df=pd.DataFrame(rows))
        == 2000
    )
    ids = [i.id for i in themes.board(engine, workshop.id).ungrouped]
    themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ใหญ่", issue_ids=ids[:1500]
    )
    board = themes.board(engine, workshop.id)
    assert board.themes[0].issue_count == 1500
    assert len(board.themes[0].group_ids) == 20
    undo.undo_last(engine, actor="facilitator", workshop_id=workshop.id)
    assert len(themes.board(engine, workshop.id).ungrouped) == 2000


def test_merge_carries_recommendations_and_undo_returns_them(seeded) -> None:
    from models import recommendations
    from models.access import Identity
    from models.schema import Role

    engine, workshop, ids = seeded
    a = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ก", issue_ids=ids[:2]
    )
    b = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ข", issue_ids=ids[2:4]
    )
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.RECOMMEND)
    rec = recommendations.add_recommendation(
        engine,
        identity=Identity(Role.FACILITATOR),
        theme_id=a.id,
        workshop_id=workshop.id,
        data=recommendations.RecommendationInput(level="cluster", text="จัดสรรอัตรากำลังร่วมกัน"),
    )
    themes.merge_themes(
        engine, actor="facilitator", workshop_id=workshop.id, source_id=a.id, target_id=b.id
    )
    by_theme = recommendations.by_theme_and_level(engine, workshop.id)
    assert [r.id for r in by_theme[b.id]["cluster"]] == [rec.id]
    undo.undo_last(engine, actor="facilitator", workshop_id=workshop.id)
    assert [
        r.id for r in recommendations.by_theme_and_level(engine, workshop.id)[a.id]["cluster"]
    ] == [rec.id]


# --- two facilitators: undo by actor, refusal of actions on a board changed meanwhile ------

ANN, BEN = "facilitator#a1a1", "facilitator#b2b2"  # one PIN, two browser sessions


def _seen(engine, workshop_id) -> int:
    """The version a page would be drawn at (the newest audit event's id)."""
    return views.version(engine, workshop_id)[0]


def test_undo_takes_back_the_actors_own_latest_action(seeded) -> None:
    engine, workshop, ids = seeded
    ws = workshop.id
    mine = themes.create_theme(engine, actor=ANN, workshop_id=ws, title="ของแอน", issue_ids=ids[:2])
    theirs = themes.create_theme(
        engine, actor=BEN, workshop_id=ws, title="ของเบน", issue_ids=ids[2:4]
    )
    assert undo.next_undo(engine, ws, by=ANN).entity_id == mine.id
    assert undo.next_undo(engine, ws).actor == BEN  # the newest of anyone's: Ben's
    undone = undo.undo_last(engine, actor=ANN, workshop_id=ws, mine_only=True)
    assert undone.actor == ANN
    titles = [v.theme.title for v in themes.board(engine, ws).themes]
    assert titles == ["ของเบน"]  # Ben's theme untouched
    assert theirs.id == themes.board(engine, ws).themes[0].theme.id
    with pytest.raises(DomainError) as caught:  # Ann has nothing left to undo
        undo.undo_last(engine, actor=ANN, workshop_id=ws, mine_only=True)
    assert caught.value.key == "error.undo.nothing"
    assert undo.next_undo(engine, ws, by=BEN).entity_id == theirs.id


def test_undo_state_names_a_colleagues_newer_action(seeded) -> None:
    engine, workshop, ids = seeded
    ws = workshop.id
    themes.create_theme(engine, actor=ANN, workshop_id=ws, title="ก", issue_ids=ids[:1])
    themes.create_theme(engine, actor=BEN, workshop_id=ws, title="ข", issue_ids=ids[1:2])
    state = undo.state(engine, ws, views.version(engine, ws), ANN)
    assert state.mine.actor == ANN and state.newest.actor == BEN
    assert state.newest_is_someone_elses
    assert not undo.state(engine, ws, views.version(engine, ws), BEN).newest_is_someone_elses


def _move(engine, ws, actor, ids, theme_id, seen):
    return themes.move_issues(
        engine, actor=actor, workshop_id=ws, issue_ids=ids, theme_id=theme_id, seen=seen
    )


def test_move_on_a_theme_a_colleague_just_renamed_is_refused(seeded) -> None:
    engine, workshop, ids = seeded
    ws = workshop.id
    theme = themes.create_theme(engine, actor=ANN, workshop_id=ws, title="ครู", issue_ids=ids[:1])
    seen = _seen(engine, ws)  # Ben's page is drawn here
    themes.update_theme(engine, actor=ANN, workshop_id=ws, theme_id=theme.id, title="งบ")
    with pytest.raises(DomainError) as caught:
        _move(engine, ws, BEN, ids[1:3], theme.id, seen)
    assert caught.value.key == "error.board.changed"
    assert caught.value.values["who"] == ANN
    assert sorted(i.id for i in themes.board(engine, ws).themes[0].issues) == ids[:1]
    # Drawn again (a newer `seen`), the same move goes through.
    assert _move(engine, ws, BEN, ids[1:3], theme.id, _seen(engine, ws)) == 2


def test_moving_issues_a_colleague_just_moved_is_refused(seeded) -> None:
    engine, workshop, ids = seeded
    ws = workshop.id
    one = themes.create_theme(engine, actor=ANN, workshop_id=ws, title="หนึ่ง")
    two = themes.create_theme(engine, actor=ANN, workshop_id=ws, title="สอง")
    seen = _seen(engine, ws)
    _move(engine, ws, ANN, ids[:2], one.id, None)
    with pytest.raises(DomainError) as caught:
        _move(engine, ws, BEN, ids[1:3], two.id, seen)
    assert caught.value.key == "error.board.changed"


def test_one_facilitator_per_domain_fill_the_same_theme_without_refusal(seeded) -> None:
    engine, workshop, ids = seeded
    ws = workshop.id
    theme = themes.create_theme(engine, actor=ANN, workshop_id=ws, title="ร่วม")
    seen_ann = seen_ben = _seen(engine, ws)  # both pages drawn, then both act
    _move(engine, ws, ANN, [ids[0], ids[2]], theme.id, seen_ann)
    _move(engine, ws, BEN, [ids[1], ids[3]], theme.id, seen_ben)
    assert len(themes.board(engine, ws).themes[0].issues) == 4


@pytest.mark.parametrize("colleague", ["move_out", "merge_in", "undo"])
def test_merge_of_a_theme_whose_issues_changed_is_refused(seeded, colleague) -> None:
    engine, workshop, ids = seeded
    ws = workshop.id
    source = themes.create_theme(engine, actor=BEN, workshop_id=ws, title="ต้น", issue_ids=ids[:2])
    target = themes.create_theme(engine, actor=BEN, workshop_id=ws, title="ปลาย")
    other = themes.create_theme(engine, actor=ANN, workshop_id=ws, title="อื่น", issue_ids=ids[4:])
    seen = _seen(engine, ws)  # Ben sees "ต้น" with two issues
    if colleague == "move_out":
        _move(engine, ws, ANN, ids[:1], None, None)
    elif colleague == "merge_in":
        themes.merge_themes(
            engine, actor=ANN, workshop_id=ws, source_id=other.id, target_id=source.id
        )
    else:  # Ann moved an issue into it before Ben drew the page, then undoes that move
        _move(engine, ws, ANN, ids[2:3], source.id, None)
        seen = _seen(engine, ws)
        undo.undo_last(engine, actor=ANN, workshop_id=ws, mine_only=True)
    with pytest.raises(DomainError) as caught:
        themes.merge_themes(
            engine, actor=BEN, workshop_id=ws, source_id=source.id, target_id=target.id, seen=seen
        )
    assert caught.value.key == "error.board.changed"


def test_own_and_group_changes_since_do_not_refuse(seeded) -> None:
    engine, workshop, ids = seeded
    ws = workshop.id
    theme = themes.create_theme(engine, actor=ANN, workshop_id=ws, title="ครู", issue_ids=ids[:2])
    target = themes.create_theme(engine, actor=BEN, workshop_id=ws, title="ปลาย")
    seen = _seen(engine, ws)
    themes.update_theme(engine, actor=ANN, workshop_id=ws, theme_id=theme.id, title="ครูขาด")
    phases.set_phase(engine, actor=BEN, workshop_id=ws, phase=Phase.COLLECT)  # not the board
    add_issue(engine, workshop, statement="ใหม่")  # a group writes meanwhile
    themes.merge_themes(
        engine, actor=ANN, workshop_id=ws, source_id=theme.id, target_id=target.id, seen=seen
    )  # Ann's own rename and a group's new issue are no reason to refuse Ann
