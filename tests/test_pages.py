"""AppTest: every page for every role, and the organizer's and groups' flows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models import access, db, issues, workshops
from models.access import PAGE_ROLES as PAGES
from models.access import Identity
from models.schema import Role

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def app_env(tmp_path, monkeypatch, staff_env):
    """A fresh database (with the demo workshop, as on first run) for the app under test."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = db.get_engine(url)
    return engine


def _app(identity: Identity | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if identity is not None:
        at.session_state["identity"] = identity
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _demo(engine):
    workshop = workshops.list_workshops(engine)[0]
    return workshop, workshops.list_groups(engine, workshop.id)


def _identity(role: Role, engine) -> Identity:
    workshop, groups = _demo(engine)
    if role is Role.GROUP:
        return Identity(role, workshop.id, groups[2].id)
    if role is Role.VIEWER:
        return Identity(role, workshop.id)
    return Identity(role)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_for_every_role(app_env, role: Role, page: str) -> None:
    _app(None)  # first run creates the demo workshop
    at = _app(_identity(role, app_env))
    assert not at.exception
    if access.may_open(role, page):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception
        assert at.title or at.header, f"{page} rendered no heading for {role}"
        assert not at.error
    else:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{page}.py")  # not in this role's navigation


@pytest.mark.parametrize("role", [*Role, None])
@pytest.mark.parametrize("page", list(PAGES))
def test_pages_guard_themselves(app_env, role: Role | None, page: str) -> None:
    """The second lock: a page run outside the navigation still checks the role."""
    _app(None)
    at = AppTest.from_file(str(Path(APP).parent / "pages" / f"{page}.py"), default_timeout=30)
    # As after app.py ran once in this session (the hand-over of a session that never
    # ran app.py is a browser test: tests/browser, first request after a restart).
    at.session_state["_app_ran"] = True
    if role is not None:
        at.session_state["identity"] = _identity(role, app_env)
    at.run()
    assert not at.exception
    refused = [e.value for e in at.error] == ["ไม่มีสิทธิ์ทำรายการนี้"] and not (at.title or at.header)
    assert refused is not access.may_open(role, page)


def test_visitor_sees_only_the_join_page(app_env) -> None:
    at = _app()
    assert not at.exception
    assert at.title[0].value == "Roundtable"
    assert at.text_input(key="join_code") is not None


def test_join_link_puts_the_session_into_its_group(app_env) -> None:
    at = _app()
    _, groups = _demo(app_env)
    at = _app(join=groups[4].join_code.lower())
    assert not at.exception
    assert at.title[0].value == groups[4].name
    assert at.session_state["identity"] == Identity(Role.GROUP, groups[4].workshop_id, groups[4].id)
    assert at.query_params["join"] == groups[4].join_code


def test_wrong_join_code_says_so(app_env) -> None:
    _app()
    at = _app(join="WRONG234")
    assert "identity" not in at.session_state
    assert [e.value for e in at.error] == ["รหัสไม่ถูกต้อง กรุณาตรวจสอบอีกครั้ง"]


def test_staff_login_form_keeps_the_token_out_of_the_url(app_env) -> None:
    at = _app()
    at.radio(key="staff_role").set_value(Role.FACILITATOR)
    at.text_input(key="staff_secret").input("000000")
    at.button[2].click().run()
    assert [e.value for e in at.error] == ["รหัส PIN หรือรหัสผ่านไม่ถูกต้อง"]
    at.text_input(key="staff_secret").input("246810")
    at.button[2].click().run()
    assert at.session_state["identity"] == Identity(Role.FACILITATOR)
    assert at.header[0].value.startswith("ประชุมพัฒนาประสิทธิภาพ")  # the live dashboard
    # The token stays out of the URL (a reload finds it in the browser's cookie, which
    # the browser test checks: AppTest has no cookies).
    token = at.session_state["staff_token"]
    assert "s" not in at.query_params and token not in str(at.query_params)
    assert access.parse_token(app_env, token) == Identity(Role.FACILITATOR)
    # Signing out is driven in the browser (tests/browser/test_security_flow.py).


def _group_app(engine, index: int = 5) -> tuple[AppTest, object]:
    _app()
    _, groups = _demo(engine)
    return _app(join=groups[index].join_code), groups[index]


def test_group_adds_an_issue_and_a_refused_one_keeps_the_text(app_env) -> None:
    at, group = _group_app(app_env)
    at.text_area(key="new_statement").input("   ")
    at.text_area(key="new_cause").input("สาเหตุที่พิมพ์ไว้")
    at.button(key="FormSubmitter:new_issue-บันทึกประเด็นปัญหา").click().run()
    assert not at.exception
    assert at.error[0].value == "กรุณากรอก “ประเด็นปัญหา”"
    assert at.text_area(key="new_cause").value == "สาเหตุที่พิมพ์ไว้"  # nothing typed is lost
    at.text_area(key="new_statement").input("  ครูย้ายบ่อย **ด่วน** <b>x</b>  ")
    at.pills(key="new_affected").set_value(["school", "cluster"])
    at.button(key="FormSubmitter:new_issue-บันทึกประเด็นปัญหา").click().run()
    assert not at.exception
    assert at.success[0].value == "บันทึกแล้ว"
    assert at.text_area(key="new_statement").value == ""
    stored = issues.group_issues(app_env, group.id)
    assert [i.statement for i in stored] == ["ครูย้ายบ่อย **ด่วน** <b>x</b>"]
    assert stored[0].affected == "school,cluster"
    shown = [t.value for t in at.text]
    assert "ครูย้ายบ่อย **ด่วน** <b>x</b>" in shown  # st.text: never Markdown or HTML


def test_an_over_long_statement_from_the_client_is_refused_not_cut(app_env) -> None:
    """What the browser sends is what the server checks (#12 item 7): a widget's max_chars
    would cut a longer value on the server before any command saw it."""
    at, group = _group_app(app_env)
    before = issues.group_issues(app_env, group.id)
    at.text_area(key="new_statement").input("ก" * (issues.MAX_STATEMENT + 1))
    at.button(key="FormSubmitter:new_issue-บันทึกประเด็นปัญหา").click().run()
    assert not at.exception
    assert at.error, "the refusal is said"
    assert issues.group_issues(app_env, group.id) == before
    assert len(at.text_area(key="new_statement").value) == issues.MAX_STATEMENT + 1


def test_group_edits_deletes_and_undoes(app_env) -> None:
    at, group = _group_app(app_env, index=0)  # region 1 has one demo issue
    (issue,) = issues.group_issues(app_env, group.id)
    at.button(key=f"edit_{issue.id}").click().run()
    at.text_area(key=f"edit{issue.id}_statement").input("แก้ไขแล้ว")
    at.button(key=f"FormSubmitter:edit_form_{issue.id}-บันทึก").click().run()
    assert not at.exception
    assert issues.group_issues(app_env, group.id)[0].statement == "แก้ไขแล้ว"
    at.button(key=f"edit_{issue.id}").click().run()  # delete is in the editor
    at.button(key=f"FormSubmitter:edit_form_{issue.id}-ลบ").click().run()
    assert not at.exception
    assert issues.group_issues(app_env, group.id) == []
    at.button(key="undo_delete_button").click().run()
    assert [i.id for i in issues.group_issues(app_env, group.id)] == [issue.id]
    # Back as a card, not with its editor still open.
    assert f"FormSubmitter:edit_form_{issue.id}-ลบ" not in {b.key for b in at.button}
    assert at.button(key=f"edit_{issue.id}")


def test_group_cannot_undo_its_delete_once_the_phase_moved_on(app_env) -> None:
    from models import phases
    from models.schema import Phase

    at, group = _group_app(app_env, index=0)
    (issue,) = issues.group_issues(app_env, group.id)
    at.button(key=f"edit_{issue.id}").click().run()
    at.button(key=f"FormSubmitter:edit_form_{issue.id}-ลบ").click().run()
    assert at.button(key="undo_delete_button")
    # The facilitator moves on while the undo button is on the group's screen.
    phases.set_phase(app_env, actor="t", workshop_id=group.workshop_id, phase=Phase.VOTE)
    at.button(key="undo_delete_button").click().run()
    assert not at.exception
    assert at.error, "the refusal is said"
    assert issues.group_issues(app_env, group.id) == []
    assert "undo_delete_button" not in {b.key for b in at.button}


def test_group_page_closed_outside_collect(app_env) -> None:
    from models import phases
    from models.schema import Phase

    at, group = _group_app(app_env, index=0)
    phases.set_phase(app_env, actor="t", workshop_id=group.workshop_id, phase=Phase.VOTE)
    at.run()
    assert "ลงคะแนน" in at.info[0].value
    assert not [b for b in at.button if b.key and b.key.startswith("edit_")]


def test_english_for_the_session_and_in_the_url(app_env) -> None:
    # AppTest (Streamlit 1.67) re-runs only the page script after the first run of an
    # st.navigation app, so app.py's own behaviour is checked on first runs.
    _app()
    _, groups = _demo(app_env)
    at = _app(join=groups[5].join_code, lang="en")
    assert at.radio(key="language").value == "en"
    assert at.subheader[0].value == "Add an issue"
    assert at.query_params["lang"] == "en"
    thai = _app(join=groups[5].join_code)
    assert thai.subheader[0].value == "เพิ่มประเด็นปัญหา"
    assert "lang" not in thai.query_params


def test_organizer_edits_workshop_and_groups(app_env) -> None:
    _app()
    at = _app(Identity(Role.ORGANIZER))
    at.switch_page("pages/organizer_workshop.py").run()
    at.text_input(key="ws_venue").input("ห้องประชุม 1")
    at.button(key="ws_save").click().run()
    assert not at.exception
    workshop, groups = _demo(app_env)
    assert workshop.venue == "ห้องประชุม 1"
    # The Gregorian pickers have the Buddhist-era dates beside them, following the pick.
    assert "ตรงกับ 14–16 มีนาคม 2561" in [c.value for c in at.caption]
    at.date_input(key="ws_ends").set_value(dt.date(2018, 3, 20)).run()
    assert "ตรงกับ 14–20 มีนาคม 2561" in [c.value for c in at.caption]

    at.switch_page("pages/organizer_groups.py").run()
    at.text_input(key="add_group_name").input("กลุ่มที่ 21")
    at.button(key="FormSubmitter:add_group-เพิ่ม").click().run()
    assert not at.exception
    assert workshops.list_groups(app_env, workshop.id)[-1].name == "กลุ่มที่ 21"
    at.text_input(key=f"group_name_{groups[0].id}").input("เขต 1 (ใหม่)").run()
    assert workshops.get_group(app_env, groups[0].id).name == "เขต 1 (ใหม่)"
    at.text_input(key=f"group_name_{groups[1].id}").input("เขต 1 (ใหม่)").run()  # clash
    assert "มีกลุ่มชื่อ" in at.error[0].value
    assert workshops.get_group(app_env, groups[1].id).name == groups[1].name
    at.button(key=f"group_remove_{groups[0].id}").click().run()  # has issues: refused
    assert "นำออกไม่ได้" in at.error[0].value
    old_code = groups[3].join_code
    at.button(key=f"group_code_{groups[3].id}").click().run()
    assert workshops.get_group(app_env, groups[3].id).join_code != old_code


def test_join_screen_shows_every_group(app_env) -> None:
    _app()
    at = _app(Identity(Role.ORGANIZER))
    at.switch_page("pages/organizer_join.py").run()
    assert not at.exception
    _, groups = _demo(app_env)
    codes = {c.value for c in at.code}
    assert {g.join_code for g in groups} <= codes


def test_organizer_import_all_or_nothing(app_env) -> None:
    _app()
    at = _app(Identity(Role.ORGANIZER))
    at.switch_page("pages/organizer_data.py").run()
    assert not at.exception
    workshop, _ = _demo(app_env)
    before = len(issues.workshop_issues(app_env, workshop.id))
    bad = "group,domain,text\nเขตตรวจราชการที่ 1,วิชาการ,ใหม่\nไม่มีกลุ่มนี้,วิชาการ,x\n"
    at.file_uploader(key="import_file").upload("bad.csv", bad.encode("utf-8-sig"), "text/csv").run()
    at.button(key="import_go").click().run()
    assert not at.exception
    assert "1" in at.error[0].value
    assert any("ไม่มีกลุ่มนี้" in t.value for t in at.text)
    assert len(issues.workshop_issues(app_env, workshop.id)) == before
    good = "group,domain,text\nเขตตรวจราชการที่ 1,วิชาการ,นำเข้าใหม่\n"
    at.file_uploader(key="import_file").upload(
        "good.csv", good.encode("utf-8-sig"), "text/csv"
    ).run()
    at.button(key="import_go").click().run()
    assert not at.exception
    assert len(issues.workshop_issues(app_env, workshop.id)) == before + 1


def test_every_page_has_a_file_a_title_and_an_icon() -> None:
    """app.py's navigation table and models.access.PAGE_ROLES name the same pages."""
    app_source = Path(APP).read_text(encoding="utf-8")
    for page in PAGES:
        assert (Path(APP).parent / "pages" / f"{page}.py").exists()
        assert f'"{page}": ("nav.' in app_source
