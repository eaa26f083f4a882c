"""AppTest flows of phase control, reveal, countdown, undo and the audit log."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from models import issues, phases, themes, workshops
from models.access import Identity
from models.schema import Phase, Role
from tests.factories import run_page


@pytest.fixture
def demo(demo_db):
    return demo_db


def test_phase_change_with_countdown_is_logged_and_undone(demo) -> None:
    engine, workshop = demo
    at = run_page("facilitate", Identity(Role.FACILITATOR))
    assert not at.exception
    at.radio(key="phase_select").set_value(Phase.GROUP)
    at.number_input(key="phase_minutes").set_value(15)
    at.button(key="FormSubmitter:phase_form-เปลี่ยนขั้นตอน").click().run()
    assert not at.exception
    stored = workshops.get_workshop(engine, workshop_id=workshop.id)
    assert stored.phase == "group"
    assert 14 * 60 < phases.seconds_left(stored) <= 15 * 60
    log = at.dataframe[-1].value  # the audit log, below the room's progress
    assert log.iloc[0]["รายการ"] == "เปลี่ยนขั้นตอน"
    assert log.iloc[0]["ผู้ดำเนินการ"].startswith("ผู้ดำเนินการประชุม #")  # this session's label
    at.button(key="facilitate_undo").click().run()
    assert workshops.get_workshop(engine, workshop_id=workshop.id).phase == "collect"
    assert at.dataframe[-1].value.iloc[1]["เลิกทำแล้ว"] == "✓"


def test_phase_choice_follows_a_change_made_elsewhere(demo) -> None:
    """Another facilitator moves the phase: this page's choice must not stay on the old
    one (its next click would send the workshop back)."""
    engine, workshop = demo
    at = run_page("facilitate", Identity(Role.FACILITATOR))
    assert at.radio(key="phase_select").value == Phase.COLLECT
    phases.set_phase(engine, actor="colleague", workshop_id=workshop.id, phase=Phase.GROUP)
    at.run()  # what following the room does
    assert at.radio(key="phase_select").value == Phase.GROUP
    at.number_input(key="phase_minutes").set_value(5)  # this session's own edit, not sent
    at.radio(key="phase_select").set_value(Phase.VOTE)
    at.button(key="FormSubmitter:phase_form-เปลี่ยนขั้นตอน").click().run()
    assert not at.exception and not at.warning
    assert workshops.get_workshop(engine, workshop_id=workshop.id).phase == "vote"
    assert at.radio(key="phase_select").value == Phase.VOTE


def test_reveal_lets_groups_see_each_other(demo) -> None:
    engine, workshop = demo
    groups = workshops.list_groups(engine, workshop.id)
    region1 = Identity(Role.GROUP, workshop.id, groups[0].id)
    assert issues.visible_to_group(engine, region1) == []
    group_page = run_page("group_issues", region1)
    assert not [e for e in group_page.expander if "กลุ่มอื่น" in e.label]
    at = run_page("facilitate", Identity(Role.FACILITATOR))
    at.button(key="reveal_toggle").click().run()
    assert workshops.get_workshop(engine, workshop_id=workshop.id).revealed
    others = issues.visible_to_group(engine, region1)
    assert len(others) == 15 and all(i.group_id != groups[0].id for i in others)
    group_page = run_page("group_issues", region1)
    assert [e.label for e in group_page.expander if "กลุ่มอื่น" in e.label] == ["ประเด็นของกลุ่มอื่น (15)"]


def test_group_sees_why_its_issue_was_hidden(demo) -> None:
    engine, workshop = demo
    group = workshops.list_groups(engine, workshop.id)[0]
    (issue,) = issues.group_issues(engine, group.id)
    themes.hide_issues(
        engine,
        actor="facilitator",
        workshop_id=workshop.id,
        issue_ids=[issue.id],
        reason="**นอกประเด็น**",
    )
    at = run_page("group_issues", Identity(Role.GROUP, workshop.id, group.id))
    assert not at.exception
    assert at.warning[0].value == r"ผู้ดำเนินการซ่อนประเด็นนี้ เหตุผล: \*\*นอกประเด็น\*\*"
    phases.set_reveal(engine, actor="facilitator", workshop_id=workshop.id, revealed=True)
    revealed_ids = {
        i.id for i in issues.visible_to_group(engine, Identity(Role.GROUP, workshop.id, 999))
    }
    assert issue.id not in revealed_ids  # hidden issues stay out of other groups' view
    assert len(revealed_ids) == 15


def test_countdown_is_shown_to_groups(demo) -> None:
    import datetime as dt

    from models.schema import utcnow

    engine, workshop = demo
    phases.set_phase(
        engine,
        actor="facilitator",
        workshop_id=workshop.id,
        phase=Phase.COLLECT,
        deadline=utcnow() + dt.timedelta(minutes=5),
    )
    group = workshops.list_groups(engine, workshop.id)[0]
    at = run_page("group_issues", Identity(Role.GROUP, workshop.id, group.id))
    shown = [h.proto.body for h in at.get("html") if "rt-countdown" in h.proto.body]
    assert shown and "เวลาที่เหลือ" in shown[0]


def test_room_progress_at_a_glance(demo) -> None:
    engine, workshop = demo
    groups = workshops.list_groups(engine, workshop.id)
    domains = workshops.list_domains(engine, workshop.id)
    before = {g.id: 0 for g in groups}
    for issue in issues.workshop_issues(engine, workshop.id):
        before[issue.group_id] += 1
    issues.add_issue(
        engine,
        identity=Identity(Role.GROUP, workshop.id, groups[0].id),
        data=issues.IssueInput(domain_id=domains[1].id, statement="งบมาช้า"),
    )
    at = run_page("facilitate", Identity(Role.FACILITATOR))
    assert not at.exception
    # A real HTML table (read cell by cell by a screen reader), read back by pandas.
    (body,) = (h.proto.body for h in at.get("html") if "rt-progress" in h.proto.body)
    grid = pd.read_html(io.StringIO(body), flavor="lxml")[0]
    assert list(grid.columns) == [
        "กลุ่ม",
        *(d.name for d in domains),
        "รวม",
        "คะแนนที่ใช้",
        "ข้อเสนอแนะ",
    ]
    assert len(grid) == len(groups) == 20
    first = grid.iloc[0]
    assert first["กลุ่ม"] == groups[0].name and first["รวม"] == before[groups[0].id] + 1
    assert first["คะแนนที่ใช้"] == f"0/{workshop.vote_budget}"
    started = sum(1 for g in groups if before[g.id] or g.id == groups[0].id)
    assert any(c.value.startswith(f"เริ่มกรอกประเด็นแล้ว {started} จาก 20 กลุ่ม") for c in at.caption)


def test_undo_is_per_facilitator_and_names_a_colleagues_newer_action(demo) -> None:
    engine, workshop = demo
    at = run_page("facilitate", Identity(Role.FACILITATOR))
    at.button(key="reveal_toggle").click().run()  # this session's own action
    themes.create_theme(engine, actor="facilitator#c0c0", workshop_id=workshop.id, title="ก")
    at.run()
    assert at.button(key="facilitate_undo").label == "เลิกทำ: เปิดให้ทุกกลุ่มเห็นประเด็น"
    assert any("ผู้ดำเนินการประชุม #c0c0" in c.value for c in at.caption)
    at.button(key="facilitate_undo").click().run()
    assert not workshops.get_workshop(engine, workshop_id=workshop.id).revealed
    assert [v.theme.title for v in themes.board(engine, workshop.id).themes] == ["ก"]
