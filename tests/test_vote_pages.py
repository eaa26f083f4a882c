"""AppTest flows: a group votes (and scores) on its page; the ranking page and staff scoring."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from models import db, phases, themes, votes, workshops
from models.access import Identity
from models.schema import AuditEvent, Phase, Role, utcnow
from tests.test_votes import Setup, voting_workshop

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def app_env(tmp_path, monkeypatch, staff_env) -> Engine:
    """A fresh database for the app under test (the app adds its demo workshop on first run)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return db.get_engine(url)


def _app(identity: Identity | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if identity is not None:
        at.session_state["identity"] = identity
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _workshop(engine: Engine, **options) -> Setup:
    _app()  # first run: credentials and the demo workshop, as on a real first start
    setup = voting_workshop(engine, with_issues=True, **options)
    return setup


def _group_page(engine: Engine, setup: Setup, index: int = 0) -> AppTest:
    group = workshops.list_groups(engine, setup.workshop.id)[index]  # type: ignore[arg-type]
    at = _app(join=group.join_code)
    assert not at.exception
    at.switch_page("pages/group_vote.py").run()
    assert not at.exception
    return at


def _vote_events(engine: Engine) -> int:
    with db.read(engine) as session:
        return len(list(session.exec(select(AuditEvent).where(AuditEvent.action == "vote.cast"))))


def test_group_votes_moves_votes_and_is_refused_over_budget(app_env: Engine) -> None:
    setup = _workshop(app_env)
    a, b, c = (setup.theme_id(i) for i in range(3))
    at = _group_page(app_env, setup)
    group_id = at.session_state["identity"].group_id
    assert at.title[0].value == "ลงคะแนนเลือกประเด็นหลัก"
    assert at.metric[0].value == "5 จาก 5"
    assert [t.value for t in at.text] == ["ประเด็นหลัก 0", "ประเด็นหลัก 1", "ประเด็นหลัก 2"]
    assert "1 ประเด็นปัญหา · เสนอโดย 1 จาก 3 กลุ่ม" in [x.value for x in at.caption]

    at.number_input(key=f"vote_{a}").set_value(3).run()
    at.number_input(key=f"vote_{b}").set_value(2).run()
    assert not at.exception and not at.error
    assert votes.group_votes(app_env, group_id) == {a: 3, b: 2}
    assert at.metric[0].value == "0 จาก 5"

    at.number_input(key=f"vote_{c}").set_value(1).run()  # the budget is spent
    assert not at.exception
    assert [e.value for e in at.error] == [
        "คะแนนเสียงไม่พอ: กลุ่มมี 5 คะแนน และลงไปแล้ว 5 คะแนน กรุณาลดคะแนนจากประเด็นอื่นก่อน"
    ]
    assert at.number_input(key=f"vote_{c}").value == 0  # the widget shows what is stored
    assert votes.group_votes(app_env, group_id) == {a: 3, b: 2}
    assert _vote_events(app_env) == 2

    at.number_input(key=f"vote_{a}").set_value(1).run()  # moving: lower one, raise another
    at.number_input(key=f"vote_{c}").set_value(2).run()
    assert not at.error
    assert votes.group_votes(app_env, group_id) == {a: 1, b: 2, c: 2}
    assert at.number_input(key=f"vote_{c}").value == 2


def test_each_theme_opens_to_show_its_issues(app_env: Engine) -> None:
    setup = _workshop(app_env)
    a, b = setup.theme_id(0), setup.theme_id(1)
    at = _group_page(app_env, setup)
    labels = [e.label for e in at.expander]
    assert labels.count("ดูประเด็นปัญหาในประเด็นหลักนี้ (1)") == 3
    assert "ปัญหา 1" not in " ".join(t.value for t in at.text)  # closed: nothing sent
    at.session_state[f"vote_issues_{b}"] = True  # as if the group opened theme 1
    at.run()
    assert not at.exception
    texts = [t.value for t in at.text]
    assert "• [วิชาการ] ปัญหา 1" in texts
    assert not [t for t in texts if "ปัญหา 0" in t and not t.startswith("ประเด็นหลัก")]
    assert at.number_input(key=f"vote_{a}")  # voting still there beside it


def test_voting_closed_outside_the_vote_phase_shows_votes_read_only(app_env: Engine) -> None:
    setup = _workshop(app_env)
    at = _group_page(app_env, setup)
    at.number_input(key=f"vote_{setup.theme_id(1)}").set_value(3).run()
    phases.set_phase(
        app_env,
        actor="facilitator",
        workshop_id=setup.workshop.id,  # type: ignore[arg-type]
        phase=Phase.RECOMMEND,
    )
    at.run()
    assert not at.exception
    assert at.info[0].value.startswith("ขณะนี้อยู่ในขั้นตอน “ข้อเสนอแนะ” ยังไม่เปิดให้ลงคะแนน")
    assert not at.number_input
    captions = [x.value for x in at.caption]
    assert captions.count("คะแนนเสียงของกลุ่มเรา: 3") == 1
    assert captions.count("คะแนนเสียงของกลุ่มเรา: 0") == 2


def test_group_scores_when_the_workshop_lets_groups_score(app_env: Engine) -> None:
    setup = _workshop(app_env, groups_score=True)
    theme_id = setup.theme_id(2)
    at = _group_page(app_env, setup, index=1)
    at.slider(key=f"score_impact_{theme_id}").set_value(5)
    at.slider(key=f"score_feas_{theme_id}").set_value(2)
    at.button(key=f"score_save_{theme_id}").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == ["บันทึกคะแนนประเมินแล้ว"]
    group_id = at.session_state["identity"].group_id
    assert votes.scores_by(app_env, setup.workshop.id, f"group:{group_id}") == {theme_id: (5, 2)}  # type: ignore[arg-type]


def test_no_score_sliders_when_the_facilitator_scores(app_env: Engine) -> None:
    setup = _workshop(app_env)
    at = _group_page(app_env, setup)
    assert not at.slider


def _ranking_page(engine: Engine, setup: Setup, identity: Identity | None, **query: str) -> AppTest:
    if identity is not None and identity.workshop_id is None:
        at = AppTest.from_file(APP, default_timeout=30)
        at.session_state["identity"] = identity
        at.session_state["workshop_id"] = setup.workshop.id
        at.run()
    else:
        at = _app(identity, **query)
    assert not at.exception
    at.switch_page("pages/ranking.py").run()
    assert not at.exception
    return at


def test_ranking_page_shows_the_order_as_plain_text(app_env: Engine) -> None:
    setup = _workshop(app_env, themes_count=3)
    ws_id: int = setup.workshop.id  # type: ignore[assignment]
    _, b, c = (setup.theme_id(i) for i in range(3))
    themes.update_theme(
        app_env, actor="facilitator", workshop_id=ws_id, theme_id=c, title="**ด่วน** <b>x</b>"
    )
    for index, (theme_id, count) in enumerate([(c, 3), (b, 1)]):
        group = Identity(Role.GROUP, ws_id, workshops.list_groups(app_env, ws_id)[index].id)
        votes.cast_votes(app_env, identity=group, theme_id=theme_id, count=count)
    at = _ranking_page(app_env, setup, None, view=setup.workshop.view_code)
    assert at.title[0].value == "ลำดับประเด็นหลัก"
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "อันดับ",
        "ประเด็นหลัก",
        "คะแนนเสียง",
        "กลุ่มที่เสนอ",
        "ประเด็นปัญหา",
        "ผลกระทบ",
        "ความเป็นไปได้",
        "ผลกระทบ × ความเป็นไปได้",
    ]
    assert table.values.tolist() == [
        ["1", "**ด่วน** <b>x</b>", "3", "1/3", "1", "–", "–", "–"],
        ["2", "ประเด็นหลัก 1", "1", "1/3", "1", "–", "–", "–"],
        ["3", "ประเด็นหลัก 0", "0", "1/3", "1", "–", "–", "–"],
    ]
    assert any(x.value.startswith("ลำดับเรียงตามคะแนนเสียงรวม") for x in at.caption)
    assert "fac_score_theme" not in [s.key for s in at.selectbox]  # viewers do not score


def test_ranking_page_shows_ties_as_one_shared_rank(app_env: Engine) -> None:
    setup = _workshop(app_env, themes_count=3)
    ws_id: int = setup.workshop.id  # type: ignore[assignment]
    _, b, c = (setup.theme_id(i) for i in range(3))
    for index, theme_id in enumerate([b, c]):  # b and c: 1 vote, 1 group, no score each
        group = Identity(Role.GROUP, ws_id, workshops.list_groups(app_env, ws_id)[index].id)
        votes.cast_votes(app_env, identity=group, theme_id=theme_id, count=1)
    at = _ranking_page(app_env, setup, None, view=setup.workshop.view_code)
    ranks = at.dataframe[0].value.iloc[:, 0].tolist()
    assert ranks == ["1 (เสมอ)", "1 (เสมอ)", "3"]


def test_staff_scores_a_theme_on_the_ranking_page(app_env: Engine) -> None:
    setup = _workshop(app_env, themes_count=3)
    a, b, c = (setup.theme_id(i) for i in range(3))
    at = _ranking_page(app_env, setup, Identity(Role.FACILITATOR))
    # Nothing voted or scored yet: all three tie, so all share rank 1 (was "1", "2 (เสมอ)"…).
    assert [row[0] for row in at.dataframe[0].value.values.tolist()] == ["1 (เสมอ)"] * 3
    assert at.selectbox(key="fac_score_theme").value == a
    at.selectbox(key="fac_score_theme").set_value(c).run()
    at.slider(key="fac_score_impact").set_value(5)
    at.slider(key="fac_score_feas").set_value(4)
    at.button(key="fac_score_save").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == ["บันทึกคะแนนประเมินแล้ว"]
    assert votes.scores_by(app_env, setup.workshop.id, "facilitator") == {c: (5, 4)}  # type: ignore[arg-type]
    rows = at.dataframe[0].value.values.tolist()
    assert rows[0][1:] == ["ประเด็นหลัก 2", "0", "1/3", "1", "5.0", "4.0", "20.0"]
    # Choosing the theme again shows its stored score on the sliders.
    at.selectbox(key="fac_score_theme").set_value(b).run()
    assert (at.slider(key="fac_score_impact").value, at.slider(key="fac_score_feas").value) == (
        3,
        3,
    )
    at.selectbox(key="fac_score_theme").set_value(c).run()
    assert (at.slider(key="fac_score_impact").value, at.slider(key="fac_score_feas").value) == (
        5,
        4,
    )


def test_staff_scoring_closed_outside_vote_and_recommend(app_env: Engine) -> None:
    setup = _workshop(app_env)
    phases.set_phase(
        app_env,
        actor="facilitator",
        workshop_id=setup.workshop.id,  # type: ignore[arg-type]
        phase=Phase.PRESENT,
    )
    at = _ranking_page(app_env, setup, Identity(Role.ORGANIZER))
    assert at.info[0].value.startswith("ให้คะแนนประเมินได้ในขั้นตอน")
    assert not at.slider


def test_vote_page_with_a_phase_countdown(app_env: Engine) -> None:
    setup = _workshop(app_env)
    phases.set_phase(
        app_env,
        actor="facilitator",
        workshop_id=setup.workshop.id,  # type: ignore[arg-type]
        phase=Phase.VOTE,
        deadline=utcnow() + dt.timedelta(minutes=10),
    )
    at = _group_page(app_env, setup)
    assert not at.error
    assert at.number_input(key=f"vote_{setup.theme_id(0)}").value == 0
