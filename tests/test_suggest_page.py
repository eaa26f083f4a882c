"""AppTest: suggest → accept → undo on the theme board, and duplicate hints for groups."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from models import issues, phases, themes, undo, workshops
from models.access import Identity
from models.schema import Phase, Role
from tests.factories import run_page


@pytest.fixture
def demo(demo_db):
    return demo_db


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def test_suggest_accept_some_edited_then_undo(demo) -> None:
    engine, workshop = demo
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.GROUP)
    at = run_page("board", Identity(Role.FACILITATOR))
    assert not at.exception
    _button(at, "suggest_run").click().run()
    assert not at.exception
    count = sum(1 for c in at.checkbox if c.key.startswith("suggest_take_"))
    assert count >= 2
    assert any("16" in c.value for c in at.caption)  # "… จาก 16 ประเด็นที่ยังไม่จัดกลุ่ม"
    members = at.multiselect(key="suggest_members_0").value
    at.checkbox(key="suggest_take_1").uncheck()
    at.text_input(key="suggest_title_0").input("ครูและบุคลากรไม่เพียงพอ")
    if len(members) > 1:
        at.multiselect(key="suggest_members_0").set_value(members[:-1])
    at.run()
    assert _button(at, "suggest_accept").label == f"รับประเด็นหลักที่เลือก ({count - 1})"
    _button(at, "suggest_accept").click().run()
    assert not at.exception
    assert at.success[0].value == f"สร้างประเด็นหลักจากข้อเสนอแล้ว {count - 1} ประเด็น"
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


def test_granularity_override_and_clear(demo) -> None:
    engine, workshop = demo
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.PRESENT)
    at = run_page("board", Identity(Role.FACILITATOR))
    _button(at, "suggest_run").click().run()
    at.select_slider(key="suggest_k").set_value(3).run()  # recomputes at once
    assert not at.exception
    assert sum(1 for c in at.checkbox if c.key.startswith("suggest_take_")) == 3
    at.toggle(key="suggest_within").set_value(True).run()
    assert not at.exception
    assert any(c.value.startswith("คำสำคัญ") and "ด้าน" in c.value for c in at.caption)
    assert _button(at, "suggest_accept").disabled  # grouping is closed in the plenary
    _button(at, "suggest_clear").click().run()
    assert not any(c.key.startswith("suggest_take_") for c in at.checkbox)


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
