"""AppTest flows of the organizer's data page: downloads, import preview and mapping, restore."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models import backup, exports, issues, workshops
from models.access import Identity
from models.schema import Role

PAGES = Path(__file__).resolve().parent.parent / "pages"
GROUP_1 = "เขตตรวจราชการที่ 1"
# A sheet typed by hand: Thai headers of its own, in its own order, one column we don't use.
ODD_CSV = (
    "ลำดับ,เขต,หมวด,ปัญหาที่พบ,สาเหตุ,หมายเหตุ\n"
    f"1,{GROUP_1},วิชาการ,ครูย้ายบ่อย,ค่าครองชีพสูง,-\n"
    "2,เขตตรวจราชการที่ 2,งบประมาณ,งบซ่อมแซมไม่พอ,,ด่วน\n"
)


@pytest.fixture
def demo(demo_db):
    return demo_db


def _page() -> AppTest:
    at = AppTest.from_file(str(PAGES / "organizer_data.py"), default_timeout=30)
    at.session_state["identity"] = Identity(Role.ORGANIZER)
    at.session_state["_app_ran"] = True
    return at.run()


def _upload(at: AppTest, key: str, name: str, data: bytes, mime: str) -> AppTest:
    return at.file_uploader(key=key).upload(name, data, mime).run()


def test_every_format_has_a_download(demo) -> None:
    at = _page()
    assert not at.exception
    quick = [f for f in exports.FORMATS if f not in exports.SLOW_FORMATS]
    assert [b.key for b in at.download_button] == [f"export_{f}" for f in quick]
    slow = sorted(exports.SLOW_FORMATS)
    assert sorted(b.key for b in at.button if b.key.startswith("prepare_")) == [
        f"prepare_{f}" for f in slow
    ]


def test_a_report_is_prepared_with_progress_then_offered(demo) -> None:
    at = _page()
    next(b for b in at.button if b.key == "prepare_docx").click().run()
    assert not at.exception
    assert "export_docx" in [b.key for b in at.download_button]
    assert "prepare_docx" not in [b.key for b in at.button]


def test_import_preview_and_column_mapping(demo) -> None:
    engine, workshop = demo
    before = len(issues.workshop_issues(engine, workshop.id))
    at = _upload(_page(), "import_file", "odd.csv", ODD_CSV.encode("utf-8-sig"), "text/csv")
    assert not at.exception
    preview = at.dataframe[0].value
    assert list(preview.columns) == ["ลำดับ", "เขต", "หมวด", "ปัญหาที่พบ", "สาเหตุ", "หมายเหตุ"]
    assert len(preview) == 2
    # Defaults come from resolve_columns: the Thai alias "สาเหตุ" is found, the rest not.
    assert at.selectbox(key="map_cause").value == "สาเหตุ"
    assert at.selectbox(key="map_group").value is None
    at.button(key="import_go").click().run()
    assert "ไม่พบคอลัมน์ที่จำเป็น" in at.error[0].value
    assert len(issues.workshop_issues(engine, workshop.id)) == before
    at.selectbox(key="map_group").select("เขต")
    at.selectbox(key="map_domain").select("หมวด")
    at.selectbox(key="map_text").select("ปัญหาที่พบ")
    at.selectbox(key="map_fix").select("หมายเหตุ").run()
    at.button(key="import_go").click().run()
    assert not at.exception
    assert at.success[0].value == "นำเข้าแล้ว 2 รายการ"
    added = {i.statement: i for i in issues.workshop_issues(engine, workshop.id)}
    assert added["ครูย้ายบ่อย"].cause == "ค่าครองชีพสูง"
    assert added["งบซ่อมแซมไม่พอ"].fix == "ด่วน"
    assert len(added) == before + 2


def test_an_optional_column_can_be_left_out(demo) -> None:
    engine, _ = demo
    at = _upload(_page(), "import_file", "odd.csv", ODD_CSV.encode("utf-8-sig"), "text/csv")
    for ours, theirs in [("group", "เขต"), ("domain", "หมวด"), ("text", "ปัญหาที่พบ")]:
        at.selectbox(key=f"map_{ours}").select(theirs)
    at.selectbox(key="map_cause").select_index(0).run()  # "— ไม่มี —"
    at.button(key="import_go").click().run()
    assert not at.exception
    workshop = workshops.list_workshops(engine)[0]
    added = {i.statement: i for i in issues.workshop_issues(engine, workshop.id)}
    assert added["ครูย้ายบ่อย"].cause == ""


def test_row_errors_name_the_files_own_headers(demo) -> None:
    engine, workshop = demo
    before = len(issues.workshop_issues(engine, workshop.id))
    bad = ODD_CSV + "3,ไม่มีเขตนี้,วิชาการ,ปัญหา,,\n"
    at = _upload(_page(), "import_file", "bad.csv", bad.encode("utf-8-sig"), "text/csv")
    for ours, theirs in [("group", "เขต"), ("domain", "หมวด"), ("text", "ปัญหาที่พบ")]:
        at.selectbox(key=f"map_{ours}").select(theirs)
    at.run()
    at.button(key="import_go").click().run()
    assert not at.exception
    assert at.error[0].value == "พบข้อผิดพลาด 1 แถว ยังไม่ได้นำเข้าข้อมูลใด ๆ"
    assert [t.value for t in at.text] == ["แถว 4, เขต: ไม่พบกลุ่ม “ไม่มีเขตนี้”"]
    assert len(issues.workshop_issues(engine, workshop.id)) == before


def test_a_new_file_forgets_the_old_mapping(demo) -> None:
    at = _upload(_page(), "import_file", "odd.csv", ODD_CSV.encode("utf-8-sig"), "text/csv")
    at.selectbox(key="map_group").select("เขต").run()
    plain = f"group,domain,text\n{GROUP_1},วิชาการ,ครูไม่พอ\n"
    at = _upload(at, "import_file", "plain.csv", plain.encode("utf-8-sig"), "text/csv")
    assert not at.exception
    assert at.selectbox(key="map_group").value == "group"
    assert at.selectbox(key="map_cause").value is None


def test_restore_from_a_backup(demo) -> None:
    engine, workshop = demo
    data = backup.backup_json(engine, workshop.id)
    at = _upload(_page(), "restore_file", "backup.json", data, "application/json")
    at.button(key="restore_go").click().run()
    assert not at.exception
    assert at.error[0].value == f"มีการประชุมชื่อย่อ “{workshop.slug}” อยู่แล้ว" + (
        " กรุณากำหนดชื่อย่อใหม่ให้สำเนาที่กู้คืน"
    )
    assert "ยังไม่มีข้อมูลใดถูกกู้คืน" in [c.value for c in at.caption]
    assert len(workshops.list_workshops(engine)) == 1
    at.text_input(key="restore_slug").input("cluster-2561-copy").run()
    at.button(key="restore_go").click().run()
    assert not at.exception
    assert at.success[0].value == "กู้คืนการประชุม “cluster-2561-copy” แล้ว"
    copy = workshops.get_workshop(engine, slug="cluster-2561-copy")
    assert at.session_state["workshop_id"] == copy.id  # the page now shows the copy
    assert len(issues.workshop_issues(engine, copy.id)) == 16  # type: ignore[arg-type]


def test_restore_refuses_a_file_that_is_not_a_backup(demo) -> None:
    engine, _ = demo
    at = _upload(_page(), "restore_file", "notes.json", "ไม่ใช่ JSON".encode("cp874"), "x")
    at.button(key="restore_go").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("ไฟล์สำรองข้อมูลต้องเข้ารหัสแบบ UTF-8")
    assert len(workshops.list_workshops(engine)) == 1
