"""AppTest flows of the facilitator's theme board (the page script run on its own)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models import phases, themes, undo, workshops
from models.access import Identity
from models.schema import Phase, Role

PAGES = Path(__file__).resolve().parent.parent / "pages"


@pytest.fixture
def demo(demo_db):
    engine, workshop = demo_db
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.GROUP)
    return engine, workshop


def _board(identity: Identity | None = None, *, open_themes: tuple[int, ...] = ()) -> AppTest:
    at = AppTest.from_file(str(PAGES / "board.py"), default_timeout=30)
    at.session_state["identity"] = identity or Identity(Role.FACILITATOR)
    for theme_id in open_themes:  # as if the facilitator had opened the theme's card
        at.session_state[f"theme_card_{theme_id}"] = True
    return at.run()


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def test_board_lists_every_issue_and_builds_a_theme(demo) -> None:
    engine, workshop = demo
    at = _board()
    assert not at.exception
    assert any("16 จาก 16" in c.value for c in at.caption)  # "แสดง 16 จาก 16 ประเด็น"
    ids = [i.id for i in themes.board(engine, workshop.id).ungrouped]
    assert at.selectbox(key="board_move_target").placeholder == "ยังไม่มีประเด็นหลักอื่น"
    at.text_input(key="board_numbers").input(f"{ids[0]}, {ids[5]} และ {ids[9]}")
    at.text_input(key="board_new_title").input("ครูและบุคลากรไม่เพียงพอ")
    _button(at, "board_create").click().run()
    assert not at.exception
    # The select drawn before the first theme holds none: it asks for one, now there is one.
    move = at.selectbox(key="board_move_target")
    assert (move.value, move.placeholder) == (None, "เลือกประเด็นหลัก")
    (view,) = themes.board(engine, workshop.id).themes
    assert view.theme.title == "ครูและบุคลากรไม่เพียงพอ"
    assert sorted(i.id for i in view.issues) == sorted([ids[0], ids[5], ids[9]])
    assert at.success[0].value == "สร้างประเด็นหลักแล้ว"
    assert any("เสนอโดย 3 จาก 20 กลุ่ม" in e.label for e in at.expander)
    _button(at, "board_undo").click().run()
    assert themes.board(engine, workshop.id).themes == []


def test_filter_by_search_and_domain(demo) -> None:
    engine, workshop = demo
    at = _board()
    at.text_input(key="board_search").input("งบประมาณ").run()
    shown = at.dataframe[0].value
    assert len(shown) >= 2
    assert all("งบประมาณ" in s for s in shown.iloc[:, 3])
    budget = workshops.list_domains(engine, workshop.id)[1]
    at.text_input(key="board_search").input("").run()
    at.multiselect(key="board_domain").set_value([budget.id]).run()
    assert set(at.dataframe[0].value.iloc[:, 2]) == {"งบประมาณ"}


def test_merge_hide_and_errors(demo) -> None:
    engine, workshop = demo
    ids = [i.id for i in themes.board(engine, workshop.id).ungrouped]
    a = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ก", issue_ids=ids[:2]
    )
    b = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ข", issue_ids=ids[2:4]
    )
    at = _board(open_themes=(a.id,))
    at.selectbox(key=f"theme_merge_{a.id}").set_value(b.id)
    _button(at, f"theme_merge_go_{a.id}").click().run()
    assert not at.exception
    (view,) = themes.board(engine, workshop.id).themes
    assert view.theme.id == b.id and view.issue_count == 4
    _button(at, "board_create").click().run()  # nothing selected, no title
    assert at.error[0].value == "กรุณากรอก “ชื่อประเด็นหลัก”"
    at.text_input(key="board_numbers").input(str(ids[6]))
    at.text_input(key="board_hide_reason").input("ไม่อยู่ในขอบเขต")
    _button(at, "board_hide").click().run()
    board = themes.board(engine, workshop.id)
    assert [i.id for i in board.hidden] == [ids[6]]
    assert any(e.label == "ประเด็นที่ซ่อนไว้ (1)" for e in at.expander)
    assert undo.next_undo(engine, workshop.id).action == "issue.hide"


def test_board_refuses_groups(demo) -> None:
    engine, workshop = demo
    group = workshops.list_groups(engine, workshop.id)[0]
    at = _board(Identity(Role.GROUP, workshop.id, group.id))
    assert [e.value for e in at.error] == ["ไม่มีสิทธิ์ทำรายการนี้"]
    assert not at.dataframe


def _select_rows(at: AppTest, rows: list[int]) -> AppTest:
    """Tick table rows as a click would (the selection is by row position)."""
    at.session_state["board_table"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def _selected_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("เลือกไว้"))


def test_selection_and_typing_cleared_after_create(demo) -> None:
    engine, workshop = demo
    at = _board()
    ids = [int(n) for n in at.dataframe[0].value.iloc[:, 0]]
    _select_rows(at, [0, 1])
    assert _selected_caption(at).endswith(f"{ids[0]}, {ids[1]}")
    at.text_input(key="board_numbers").input(str(ids[5]))
    at.text_input(key="board_new_title").input("ครูไม่พอ")
    _button(at, "board_create").click().run()
    assert not at.exception
    (view,) = themes.board(engine, workshop.id).themes
    assert sorted(i.id for i in view.issues) == sorted([ids[0], ids[1], ids[5]])
    # The rows below moved up into the ticked positions: nothing may stay selected.
    assert list(at.session_state["board_table"]["selection"]["rows"]) == []
    assert "0" in _selected_caption(at) and str(ids[2]) not in _selected_caption(at)
    assert at.text_input(key="board_numbers").value == ""
    assert at.text_input(key="board_new_title").value == ""


def test_selection_cleared_after_move_and_kept_on_refusal(demo) -> None:
    engine, workshop = demo
    ids = [i.id for i in themes.board(engine, workshop.id).ungrouped]
    theme = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ก", issue_ids=ids[:1]
    )
    at = _board()
    _select_rows(at, [0, 1])  # ungrouped view: ids[1], ids[2]
    assert _selected_caption(at).endswith(f"{ids[1]}, {ids[2]}")
    # A colleague renames the theme after this page was drawn: the move is refused, the
    # selection stays for a retry.
    at.selectbox(key="board_move_target").set_value(theme.id).run()
    themes.update_theme(
        engine, actor="facilitator#c0c0", workshop_id=workshop.id, theme_id=theme.id, title="ข"
    )
    at.run()  # the page follows the room (a redraw): the action was still built before
    _button(at, "board_move").click().run()
    assert not at.exception
    assert "ผู้ดำเนินการประชุม #c0c0" in at.error[0].value
    assert len(themes.board(engine, workshop.id).themes[0].issues) == 1
    assert _selected_caption(at).endswith(f"{ids[1]}, {ids[2]}")
    _button(at, "board_move").click().run()  # drawn again: now it goes through
    assert sorted(i.id for i in themes.board(engine, workshop.id).themes[0].issues) == ids[:3]
    assert list(at.session_state["board_table"]["selection"]["rows"]) == []


def test_selection_follows_its_issues_when_rows_change(demo) -> None:
    engine, workshop = demo
    at = _board()
    ids = [int(n) for n in at.dataframe[0].value.iloc[:, 0]]
    _select_rows(at, [3, 4])
    # A colleague groups the first two issues: the rows shift up on the next rerun.
    themes.create_theme(
        engine, actor="facilitator#c0c0", workshop_id=workshop.id, title="ก", issue_ids=ids[:2]
    )
    at.run()
    assert list(at.session_state["board_table"]["selection"]["rows"]) == [1, 2]
    assert _selected_caption(at).endswith(f"{ids[3]}, {ids[4]}")


@pytest.mark.parametrize("phase", [Phase.SETUP, Phase.PRESENT])
def test_board_actions_disabled_outside_grouping(demo, phase) -> None:
    engine, workshop = demo
    ids = [i.id for i in themes.board(engine, workshop.id).ungrouped]
    theme = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ก", issue_ids=ids[:1]
    )
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=phase)
    at = _board(open_themes=(theme.id,))
    assert not at.exception
    assert at.info  # says why
    keys = ["board_create", "board_move", "board_ungroup", "board_duplicates"]
    keys += [f"theme_{n}_{theme.id}" for n in ("save", "merge_go", "split", "delete")]
    assert all(_button(at, key).disabled for key in keys)
    assert not _button(at, "board_hide").disabled  # moderation is allowed in any phase


def test_undo_takes_back_only_this_sessions_action(demo) -> None:
    engine, workshop = demo
    at = _board()
    ids = [int(n) for n in at.dataframe[0].value.iloc[:, 0]]
    at.text_input(key="board_numbers").input(str(ids[0]))
    at.text_input(key="board_new_title").input("ของฉัน")
    _button(at, "board_create").click().run()
    themes.create_theme(engine, actor="facilitator#c0c0", workshop_id=workshop.id, title="ของเพื่อน")
    at.run()
    assert "ผู้ดำเนินการประชุม #c0c0" in " ".join(c.value for c in at.caption)
    _button(at, "board_undo").click().run()
    assert [v.theme.title for v in themes.board(engine, workshop.id).themes] == ["ของเพื่อน"]
    assert _button(at, "board_undo").disabled


def test_selected_issue_moved_by_a_colleague_is_dropped_and_said(demo) -> None:
    engine, workshop = demo
    at = _board()
    ids = [int(n) for n in at.dataframe[0].value.iloc[:, 0]]
    _select_rows(at, [0, 2])
    themes.create_theme(
        engine, actor="facilitator#c0c0", workshop_id=workshop.id, title="ก", issue_ids=ids[:1]
    )
    at.run()
    assert _selected_caption(at).endswith(f": {ids[2]}")
    assert str(ids[0]) in at.warning[0].value
