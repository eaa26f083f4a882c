"""AppTest: presentation mode steps from the join screen through the ranked themes."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models import db, phases, recommendations, themes, votes, workshops
from models.access import Identity
from models.bootstrap import bootstrap
from models.recommendations import RecommendationInput
from models.schema import Phase, Role

PAGES = Path(__file__).resolve().parent.parent / "pages"


@pytest.fixture
def ranked_demo(tmp_path, monkeypatch, staff_env):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = db.get_engine(url)
    bootstrap(engine)
    workshop = workshops.list_workshops(engine)[0]
    ids = [i.id for i in themes.board(engine, workshop.id).ungrouped]
    first = themes.create_theme(
        engine,
        actor="facilitator",
        workshop_id=workshop.id,
        title="ครูไม่พอ **ด่วน**",
        issue_ids=ids[:3],
    )
    themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="งบล่าช้า", issue_ids=ids[3:5]
    )
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.VOTE)
    group = workshops.list_groups(engine, workshop.id)[0]
    votes.cast_votes(
        engine, identity=Identity(Role.GROUP, workshop.id, group.id), theme_id=first.id, count=3
    )
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.RECOMMEND)
    recommendations.add_recommendation(
        engine,
        identity=Identity(Role.FACILITATOR),
        theme_id=first.id,
        workshop_id=workshop.id,
        data=RecommendationInput(level="cluster", text="ใช้ครูร่วมกันใน CLUSTER"),
    )
    return engine, workshop


def _present(identity: Identity) -> AppTest:
    at = AppTest.from_file(str(PAGES / "present.py"), default_timeout=30)
    at.session_state["identity"] = identity
    at.session_state["_app_ran"] = True
    return at.run()


def test_viewer_steps_through_themes(ranked_demo) -> None:
    _, workshop = ranked_demo
    at = _present(Identity(Role.VIEWER, workshop.id))
    assert not at.exception
    assert at.header[0].value.startswith("ประชุมพัฒนาประสิทธิภาพ")
    # The phase once: the controls say it on every slide, the cover's caption no longer too.
    assert sum("ขั้นตอนปัจจุบัน" in c.value for c in at.caption) == 1
    assert len(at.get("image")) == 1  # viewers get the follow-along QR only, no group codes
    prev = next(b for b in at.button if b.key == "present_prev")
    assert prev.disabled
    next(b for b in at.button if b.key == "present_next").click().run()
    assert at.header[0].value == "ความคืบหน้าของห้อง"  # the room's progress, second
    (table,) = (h.proto.body for h in at.get("html") if "rt-progress" in h.proto.body)
    assert table.count("<tr>") == 1 + 20 and "เขตตรวจราชการที่ 1" in table
    next(b for b in at.button if b.key == "present_next").click().run()
    assert at.header[0].value == r"ครูไม่พอ \*\*ด่วน\*\*"  # plain text, Markdown escaped
    assert at.metric[0].value == "3"
    assert "ใช้ครูร่วมกันใน CLUSTER" in [t.value for t in at.text]
    assert at.caption[0].value.startswith("หน้า 3 / 4")
    assert "ประเด็นหลักอันดับที่ 1 จาก 2" in [c.value for c in at.caption]
    next(b for b in at.button if b.key == "present_next").click().run()
    assert at.header[0].value == "งบล่าช้า"
    assert next(b for b in at.button if b.key == "present_next").disabled
    assert at.caption[-1].value == "ยังไม่มีข้อเสนอแนะที่เห็นชอบ"


def test_staff_join_screen_shows_no_group_code(ranked_demo) -> None:
    engine, workshop = ranked_demo
    at = _present(Identity(Role.FACILITATOR))
    assert not at.exception
    # A projected join code lets anyone in the room act as that group: the viewer's
    # follow-along code only (group codes are printed on cards).
    assert len(at.get("image")) == 1
    shown = " ".join(c.value for c in at.code) + " ".join(c.value for c in at.caption)
    for group in workshops.list_groups(engine, workshop.id):
        assert group.join_code not in shown


def test_progress_slide_shows_group_names_as_text(ranked_demo) -> None:
    engine, workshop = ranked_demo
    group = workshops.list_groups(engine, workshop.id)[0]
    workshops.rename_group(
        engine, actor="t", group_id=group.id, name="<img src=x onerror=alert(1)>"
    )
    at = _present(Identity(Role.VIEWER, workshop.id))
    next(b for b in at.button if b.key == "present_next").click().run()
    (table,) = (h.proto.body for h in at.get("html") if "rt-progress" in h.proto.body)
    assert "&lt;img src=x onerror=alert(1)&gt;" in table and "<img" not in table
