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
    assert "16" in at.caption[1].value  # "แสดง 16 จาก 16 ประเด็น"
    ids = [i.id for i in themes.board(engine, workshop.id).ungrouped]
    at.text_input(key="board_numbers").input(f"{ids[0]}, {ids[5]} และ {ids[9]}")
    at.text_input(key="board_new_title").input("ครูและบุคลากรไม่เพียงพอ")
    _button(at, "board_create").click().run()
    assert not at.exception
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
