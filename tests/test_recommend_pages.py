"""AppTest: the facilitator's recommendations page and a group's recommend page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models import audit, db, issues, phases, themes, undo, workshops
from models import recommendations as recs
from models.access import Identity
from models.recommendations import RecommendationInput
from models.schema import Phase, RecommendationStatus, Role

APP = str(Path(__file__).resolve().parent.parent / "app.py")
STAFF_SUBMIT = "FormSubmitter:rec_form_{}-บันทึกข้อเสนอแนะ"
GROUP_SUBMIT = "FormSubmitter:grp_rec_form-ส่งข้อเสนอแนะ"


@pytest.fixture
def demo(tmp_path, monkeypatch, staff_env):
    """The demo workshop (as on first run) with one theme, in the recommend phase."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = db.get_engine(url)
    AppTest.from_file(APP, default_timeout=30).run()  # first run creates the demo workshop
    workshop = workshops.list_workshops(engine)[0]
    issue_ids = [i.id for i in issues.workshop_issues(engine, workshop.id)][:3]
    theme = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="ครูไม่พอ", issue_ids=issue_ids
    )
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.RECOMMEND)
    return engine, workshop, theme, workshops.list_groups(engine, workshop.id)


def _page(page: str, identity: Identity | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if identity is not None:
        at.session_state["identity"] = identity
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    return at.switch_page(f"pages/{page}.py").run()


def test_staff_add_accept_and_delete(demo) -> None:
    engine, workshop, theme, groups = demo
    group = Identity(Role.GROUP, workshop.id, groups[3].id)
    proposal = recs.add_recommendation(
        engine,
        identity=group,
        theme_id=theme.id,
        data=RecommendationInput(level="cluster", text="ตั้งคณะทำงาน CLUSTER **ด่วน**"),
    )
    at = _page("recommendations", Identity(Role.FACILITATOR))
    assert not at.exception
    assert at.title[0].value == "ข้อเสนอแนะ"
    assert "ตั้งคณะทำงาน CLUSTER **ด่วน**" in [t.value for t in at.text]  # plain text
    assert any(groups[3].name in c.value and "เสนอโดย" in c.value for c in at.caption)

    # A refused submit keeps what was typed.
    at.text_input(key=f"rec_owner_{theme.id}").input("สพท.")
    at.button(key=STAFF_SUBMIT.format(theme.id)).click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["กรุณากรอก “ข้อเสนอแนะ”"]
    assert at.text_input(key=f"rec_owner_{theme.id}").value == "สพท."

    at.selectbox(key=f"rec_level_{theme.id}").set_value("school")
    at.radio(key=f"rec_priority_{theme.id}").set_value(1)
    at.text_area(key=f"rec_text_{theme.id}").input("จัดครูอัตราจ้างให้โรงเรียนขนาดเล็ก")
    at.text_input(key=f"rec_timeframe_{theme.id}").input("ภาคเรียนที่ 1/2561")
    at.button(key=STAFF_SUBMIT.format(theme.id)).click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["บันทึกข้อเสนอแนะแล้ว"]
    assert at.text_area(key=f"rec_text_{theme.id}").value == ""
    added = [r for r in recs.for_workshop(engine, workshop.id) if r.id != proposal.id]
    assert [(r.level, r.text, r.owner, r.timeframe, r.priority, r.status) for r in added] == [
        ("school", "จัดครูอัตราจ้างให้โรงเรียนขนาดเล็ก", "สพท.", "ภาคเรียนที่ 1/2561", 1, "accepted")
    ]
    keys = {b.key for b in at.button}
    assert f"rec_accept_{added[0].id}" not in keys and f"rec_reject_{added[0].id}" in keys

    at.button(key=f"rec_accept_{proposal.id}").click().run()
    assert not at.exception
    (stored,) = recs.proposed_by_group(engine, groups[3].id)
    assert stored.status == RecommendationStatus.ACCEPTED
    keys = {b.key for b in at.button}
    assert f"rec_accept_{proposal.id}" not in keys and f"rec_reject_{proposal.id}" in keys

    at.button(key=f"rec_delete_{added[0].id}").click().run()
    assert not at.exception
    assert [r.id for r in recs.for_workshop(engine, workshop.id)] == [proposal.id]


def test_staff_edits_a_recommendation_in_one_undoable_event(demo) -> None:
    engine, workshop, theme, groups = demo
    group = Identity(Role.GROUP, workshop.id, groups[0].id)
    rec = recs.add_recommendation(
        engine,
        identity=group,
        theme_id=theme.id,
        data=RecommendationInput(level="cluster", text="ตั้งคณะทำงาน", owner="เขต", timeframe="ปีหน้า"),
    )
    at = _page("recommendations", Identity(Role.FACILITATOR))
    at.button(key=f"rec_edit_{rec.id}").click().run()
    assert not at.exception
    key = "rec_edit_{}_" + str(rec.id)
    assert at.text_area(key=key.format("text")).value == "ตั้งคณะทำงาน"  # filled from the row
    at.selectbox(key=key.format("level")).set_value("area")
    at.radio(key=key.format("priority")).set_value(1)
    at.text_area(key=key.format("text")).input("ตั้งคณะทำงานระดับเขตพื้นที่ **ด่วน**")
    at.text_input(key=key.format("owner")).input("สพป.")
    at.text_input(key=key.format("timeframe")).input("ภายใน 3 เดือน")
    before = len(audit_events(engine, workshop.id))
    at.button(key=f"FormSubmitter:rec_edit_form_{rec.id}-บันทึก").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == ["แก้ไขข้อเสนอแนะแล้ว"]
    (stored,) = recs.proposed_by_group(engine, groups[0].id)
    assert (stored.level, stored.priority, stored.text, stored.owner, stored.timeframe) == (
        "area",
        1,
        "ตั้งคณะทำงานระดับเขตพื้นที่ **ด่วน**",
        "สพป.",
        "ภายใน 3 เดือน",
    )
    assert "ตั้งคณะทำงานระดับเขตพื้นที่ **ด่วน**" in [t.value for t in at.text]  # plain text
    assert "rec_editing" not in at.session_state  # the form closed
    assert f"rec_edit_{rec.id}" in {b.key for b in at.button}
    events = audit_events(engine, workshop.id)
    assert len(events) == before + 1 and events[0].action == "recommendation.edit"
    actor = events[0].actor
    assert actor == f"facilitator#{at.session_state['_actor_label']}"
    undo.undo_last(engine, actor=actor, workshop_id=workshop.id, mine_only=True)
    (stored,) = recs.proposed_by_group(engine, groups[0].id)
    assert (stored.level, stored.text, stored.owner, stored.timeframe) == (
        "cluster",
        "ตั้งคณะทำงาน",
        "เขต",
        "ปีหน้า",
    )


def audit_events(engine, workshop_id: int):
    with db.read(engine) as session:
        return audit.events(session, workshop_id)


def test_staff_page_is_read_only_outside_its_phases(demo) -> None:
    engine, workshop, theme, _ = demo
    recs.add_recommendation(
        engine,
        identity=Identity(Role.FACILITATOR),
        theme_id=theme.id,
        data=RecommendationInput(level="area", text="ข้อเสนอ"),
    )
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.VOTE)
    at = _page("recommendations", Identity(Role.ORGANIZER))
    assert not at.exception
    assert "ลงคะแนน" in at.info[0].value
    assert "ข้อเสนอ" in [t.value for t in at.text]
    assert not [b for b in at.button if b.key and b.key.startswith("rec_")]


def test_group_proposes_edits_and_follows_status(demo) -> None:
    engine, _, theme, groups = demo
    at = _page("group_recommend", join=groups[6].join_code)
    assert not at.exception
    assert at.title[0].value == "เสนอข้อเสนอแนะ"

    at.text_input(key="grp_rec_owner").input("ผอ.สพป.")
    at.button(key=GROUP_SUBMIT).click().run()
    assert [e.value for e in at.error] == ["กรุณากรอก “ข้อเสนอแนะ”"]
    assert at.text_input(key="grp_rec_owner").value == "ผอ.สพป."  # nothing typed is lost

    at.selectbox(key="grp_rec_theme").set_value(theme.id)
    at.selectbox(key="grp_rec_level").set_value("area")
    at.text_area(key="grp_rec_text").input("ให้ สพท. มีอัตรากำลังนิเทศเพิ่ม <b>x</b>")
    at.button(key=GROUP_SUBMIT).click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["ส่งข้อเสนอแนะแล้ว รอผู้ดำเนินการประชุมพิจารณา"]
    assert at.text_area(key="grp_rec_text").value == ""
    (mine,) = recs.proposed_by_group(engine, groups[6].id)
    assert (mine.theme_id, mine.level, mine.owner, mine.status, mine.priority) == (
        theme.id,
        "area",
        "ผอ.สพป.",
        "proposed",
        2,
    )
    assert "ให้ สพท. มีอัตรากำลังนิเทศเพิ่ม <b>x</b>" in [t.value for t in at.text]
    assert any("รอพิจารณา" in c.value for c in at.caption)

    at.button(key=f"grp_rec_edit_{mine.id}").click().run()
    at.text_area(key=f"grp_rec_edit{mine.id}_text").input("ฉบับแก้ไข")
    at.button(key=f"FormSubmitter:grp_rec_edit_form_{mine.id}-บันทึก").click().run()
    assert not at.exception
    assert recs.proposed_by_group(engine, groups[6].id)[0].text == "ฉบับแก้ไข"

    recs.set_status(
        engine, identity=Identity(Role.FACILITATOR), recommendation_id=mine.id, status="accepted"
    )
    at.run()
    assert any("เห็นชอบแล้ว" in c.value for c in at.caption)
    assert f"grp_rec_edit_{mine.id}" not in {b.key for b in at.button}


def test_group_page_explains_when_closed(demo) -> None:
    engine, workshop, _, groups = demo
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.PRESENT)
    at = _page("group_recommend", join=groups[0].join_code)
    assert not at.exception
    (info,) = at.info
    assert info.value.startswith("ขณะนี้อยู่ในขั้นตอน “นำเสนอ” ยังไม่เปิดให้กลุ่มเสนอข้อเสนอแนะ")
    # The form stays, so what a group was typing when the phase moved on stays too.
    submit = [b for b in at.button if b.key and b.key.startswith("FormSubmitter:grp_rec")]
    assert submit and all(b.disabled for b in submit)


@pytest.mark.parametrize(("field", "limit"), [("text", recs.MAX_TEXT), ("owner", recs.MAX_OWNER)])
def test_an_over_long_field_from_the_client_is_refused_not_cut(demo, field, limit) -> None:
    """What the browser sends is what the server checks: a widget's max_chars would cut a
    longer value on the server, and the group would store less than it wrote."""
    engine, _, theme, groups = demo
    at = _page("group_recommend", join=groups[6].join_code)
    at.selectbox(key="grp_rec_theme").set_value(theme.id)
    at.text_area(key="grp_rec_text").input("ข้อเสนอ")
    long = "ก" * (limit + 1)
    widget = at.text_area if field == "text" else at.text_input
    widget(key=f"grp_rec_{field}").input(long)
    at.button(key=GROUP_SUBMIT).click().run()
    assert not at.exception
    assert at.error, "the refusal is said"
    assert recs.proposed_by_group(engine, groups[6].id) == []
    assert widget(key=f"grp_rec_{field}").value == long  # nothing typed is lost
