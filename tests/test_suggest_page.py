"""AppTest: suggest → accept → undo on the theme board, and duplicate hints for groups."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from models import issues, phases, proposals, themes, undo, views, workshops
from models.access import Identity
from models.schema import Phase, Role
from tests.factories import run_page


@pytest.fixture
def demo(demo_db):
    return demo_db


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def _pending(engine, workshop_id: int) -> dict[str, proposals.Stored]:
    return proposals.current(engine, workshop_id, views.version(engine, workshop_id))


def _takes(at: AppTest) -> list[str]:
    return [c.key for c in at.checkbox if c.key.startswith("suggest_take_")]


def test_suggest_accept_some_edited_then_undo(demo) -> None:
    engine, workshop = demo
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.GROUP)
    at = run_page("board", Identity(Role.FACILITATOR))
    assert not at.exception
    assert _button(at, "sort_run").disabled  # no theme with issues yet: nothing to sort into
    _button(at, "suggest_run").click().run()
    assert not at.exception
    pid = _pending(engine, workshop.id)[proposals.THEMES].id
    count = len(_takes(at))
    assert count >= 2 and _takes(at)[0] == f"suggest_take_{pid}_0"
    assert any("16" in c.value for c in at.caption)  # "… จาก 16 ประเด็นที่ยังไม่จัดกลุ่ม"
    # The title is the theme's name (a shortened central statement), keywords beside it.
    first = _pending(engine, workshop.id)[proposals.THEMES].suggestions.themes[0]
    assert at.text_input(key=f"suggest_title_{pid}_0").value == first.name
    assert any(c.value.startswith("คำสำคัญ") and first.keywords[0] in c.value for c in at.caption)
    members = at.multiselect(key=f"suggest_members_{pid}_0").value
    at.checkbox(key=f"suggest_take_{pid}_1").uncheck()
    at.text_input(key=f"suggest_title_{pid}_0").input("ครูและบุคลากรไม่เพียงพอ")
    if len(members) > 1:
        at.multiselect(key=f"suggest_members_{pid}_0").set_value(members[:-1])
    at.run()
    assert _button(at, "suggest_accept").label == f"รับประเด็นหลักที่เลือก ({count - 1})"
    _button(at, "suggest_accept").click().run()
    assert not at.exception
    assert at.success[0].value == f"สร้างประเด็นหลักจากข้อเสนอแล้ว {count - 1} ประเด็น"
    assert not _takes(at)  # accepted: the proposal is closed
    board = themes.board(engine, workshop.id)
    assert len(board.themes) == count - 1
    assert board.themes[0].theme.title == "ครูและบุคลากรไม่เพียงพอ"
    assert sorted(i.id for i in board.themes[0].issues) == sorted(
        members[: max(1, len(members) - 1)]
    )
    assert undo.next_undo(engine, workshop.id).action == "suggest.accept"
    assert _button(at, "board_undo").label == "เลิกทำ: รับประเด็นหลักที่ระบบเสนอ"
    _button(at, "board_undo").click().run()
    assert not at.exception
    board = themes.board(engine, workshop.id)
    assert board.themes == [] and len(board.ungrouped) == 16
    assert len(_takes(at)) == count  # undone: the same proposal is back to review


def test_granularity_override_and_dismiss(demo) -> None:
    engine, workshop = demo
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.PRESENT)
    at = run_page("board", Identity(Role.FACILITATOR))
    _button(at, "suggest_run").click().run()
    at.select_slider(key="suggest_k").set_value(3).run()  # recomputes at once
    assert not at.exception
    assert len(_takes(at)) == 3
    at.toggle(key="suggest_within").set_value(True).run()
    assert not at.exception
    assert any(c.value.startswith("คำสำคัญ") and "ด้าน" in c.value for c in at.caption)
    assert _button(at, "suggest_accept").disabled  # grouping is closed in the plenary
    assert _button(at, "sort_run").disabled
    _button(at, "suggest_clear").click().run()
    assert not _takes(at)
    assert proposals.THEMES not in _pending(engine, workshop.id)
    assert not _takes(run_page("board", Identity(Role.FACILITATOR)))  # dismissed for everyone


def test_suggestions_survive_a_reload_and_show_on_a_colleagues_board(demo) -> None:
    engine, workshop = demo
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.GROUP)
    mine = run_page("board", Identity(Role.FACILITATOR))
    _button(mine, "suggest_run").click().run()
    shown = _takes(mine)
    colleague = run_page("board", Identity(Role.FACILITATOR))  # another session, another label
    assert _takes(colleague) == shown
    assert any(c.value.startswith("เสนอโดย ผู้ดำเนินการประชุม #") for c in colleague.caption)
    pid = _pending(engine, workshop.id)[proposals.THEMES].id
    # The colleague groups an issue of the first suggestion: it drops out, with a note.
    moved = colleague.multiselect(key=f"suggest_members_{pid}_0").value[0]
    themes.create_theme(
        engine, actor="facilitator#cccc", workshop_id=workshop.id, title="ก", issue_ids=[moved]
    )
    reloaded = run_page("board", Identity(Role.FACILITATOR))
    assert not reloaded.exception
    assert any("1 ประเด็นในข้อเสนอนี้" in w.value for w in reloaded.warning)
    members = [
        m.options for m in reloaded.multiselect if m.key.startswith(f"suggest_members_{pid}_")
    ]
    assert all(f"#{moved} " not in option for options in members for option in options)


def _editors(at: AppTest, pid: int) -> dict[int, list[int]]:
    """The sort review's tables: theme id -> issue numbers shown."""
    prefix = f"sort_rows_{pid}_"
    return {
        int(e.key[len(prefix) :]): [int(n) for n in e.value["no"]]
        for e in at.data_editor
        if e.key and e.key.startswith(prefix)
    }


def test_sort_the_rest_shared_reviewed_applied_as_one_undo(demo) -> None:
    engine, workshop = demo
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.GROUP)
    ungrouped = themes.board(engine, workshop.id).ungrouped
    budget = [i.id for i in ungrouped if "งบประมาณ" in i.statement][:2]
    teachers = [i.id for i in ungrouped if "ครู" in i.statement][:2]
    seeds = {}
    for title, ids in (("งบประมาณ", budget), ("ครู", teachers)):
        theme = themes.create_theme(
            engine, actor="facilitator", workshop_id=workshop.id, title=title, issue_ids=ids
        )
        seeds[theme.id] = ids
    mine = run_page("board", Identity(Role.FACILITATOR))
    _button(mine, "sort_run").click().run()
    assert not mine.exception
    stored = _pending(engine, workshop.id)[proposals.SORT]
    placed = {p.issue_id: p.theme_id for p in stored.placements if p.theme_id is not None}
    shown = _editors(mine, stored.id)
    assert shown and {i: t for t, ids in shown.items() for i in ids} == placed
    confidence = {p.issue_id: p.confidence for p in stored.placements}
    for editor in mine.data_editor:  # each issue with how sure the proposal is
        assert list(editor.value["confidence"]) == [confidence[int(n)] for n in editor.value["no"]]
    # A colleague's board, and this one reloaded, show the very same proposal.
    assert _editors(run_page("board", Identity(Role.FACILITATOR)), stored.id) == shown
    at = run_page("board", Identity(Role.FACILITATOR))
    assert _editors(at, stored.id) == shown
    assert _button(at, "sort_apply").label == f"จัดประเด็นที่เลือก ({len(placed)})"
    # Review: untick the first issue of one theme, and (if there are two) all of the other.
    kept, *others = list(shown)
    at.session_state[f"sort_rows_{stored.id}_{kept}"] = {
        "edited_rows": {0: {"take": False}},
        "added_rows": [],
        "deleted_rows": [],
    }
    for theme_id in others:
        at.checkbox(key=f"sort_theme_{stored.id}_{theme_id}").uncheck()
    at.run()
    chosen = shown[kept][1:]
    assert _button(at, "sort_apply").label == f"จัดประเด็นที่เลือก ({len(chosen)})"
    before = {
        v.theme.id: sorted(i.id for i in v.issues) for v in themes.board(engine, workshop.id).themes
    }
    assert chosen  # the demo's budget issues: more than one sorted into its theme
    _button(at, "sort_apply").click().run()
    assert not at.exception
    board = themes.board(engine, workshop.id)
    after = {v.theme.id: sorted(i.id for i in v.issues) for v in board.themes}
    assert after[kept] == sorted(seeds[kept] + chosen)
    assert all(after[t] == before[t] for t in others)  # unticked theme: nothing moved
    assert undo.next_undo(engine, workshop.id).action == "suggest.sort"
    assert not _editors(at, stored.id)  # applied: closed for everyone
    assert _button(at, "board_undo").label == "เลิกทำ: จัดประเด็นที่เหลือเข้าประเด็นหลักตามข้อเสนอ"
    _button(at, "board_undo").click().run()
    assert not at.exception
    board = themes.board(engine, workshop.id)
    assert {v.theme.id: sorted(i.id for i in v.issues) for v in board.themes} == before
    assert _editors(at, stored.id) == shown  # the proposal is back to review again


def test_groups_see_similar_statements_after_reveal(demo) -> None:
    engine, workshop = demo
    first, second = workshops.list_groups(engine, workshop.id)[:2]
    domain = workshops.list_domains(engine, workshop.id)[0]
    for group, statement in (
        (first, "ครูไม่เพียงพอต่อจำนวนนักเรียน"),
        (second, "ครูไม่เพียงพอต่อจำนวนนักเรียนค่ะ"),
    ):
        issues.add_issue(
            engine,
            identity=Identity(Role.GROUP, workshop.id, group.id),
            data=issues.IssueInput(domain_id=domain.id, statement=statement),  # type: ignore[arg-type]
        )
    who = Identity(Role.GROUP, workshop.id, second.id)
    at = run_page("group_issues", who)
    assert not at.exception
    assert not [i for i in at.info if "คล้ายกัน" in i.value]  # silent generation: nothing yet
    phases.set_reveal(engine, actor="facilitator", workshop_id=workshop.id, revealed=True)
    at = run_page("group_issues", who)
    hints = [i.value for i in at.info if "คล้ายกัน" in i.value]
    assert hints and first.name in hints[0] and "ครูไม่เพียงพอต่อจำนวนนักเรียน" in hints[0]


def test_marking_a_suggested_duplicate_pair(demo) -> None:
    """Two groups said the same: the board's pair is marked with one click, and the
    second issue points at the first."""
    engine, workshop = demo
    groups = workshops.list_groups(engine, workshop.id)
    domain = workshops.list_domains(engine, workshop.id)[0]
    said = "ครูขาดแคลนในโรงเรียนขนาดเล็กทำให้สอนไม่ครบทุกวิชา"
    made = [
        issues.add_issue(
            engine,
            identity=Identity(Role.GROUP, workshop.id, g.id),
            data=issues.IssueInput(domain_id=domain.id, statement=said),
        )
        for g in groups[:2]
    ]
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.GROUP)
    at = run_page("board", Identity(Role.FACILITATOR))
    _button(at, "suggest_run").click().run()
    first, second = sorted(i.id for i in made)
    _button(at, f"suggest_dup_{first}_{second}").click().run()
    assert not at.exception
    stored = {i.id: i for i in issues.workshop_issues(engine, workshop.id)}
    assert stored[second].duplicate_of_id == first
    assert any("ทำเครื่องหมาย" in m.value for m in at.success)
