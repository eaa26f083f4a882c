"""Issue import (CSV/XLSX, all rows or none) and CSV export, on real SQLite files."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from models import db, demo, i18n, io_issues, issues, phases, workshops
from models.access import Identity
from models.errors import DomainError
from models.schema import AuditEvent, Issue, Phase, Role, Workshop

HEADER = "group,domain,text,cause,impact,affected,fix\n"
GROUP_1 = "เขตตรวจราชการที่ 1"
GROUP_2 = "เขตตรวจราชการที่ 2"


# --- helpers (test-only) ---------------------------------------------------------------


def demo_workshop(tmp_path: Path) -> tuple[Engine, Workshop]:
    """A fresh database file holding the demo workshop (20 groups, 4 domains, collect)."""
    engine = db.get_engine(f"sqlite:///{tmp_path / 'roundtable.db'}")
    return engine, demo.load_demo(engine)


def csv_bytes(body: str, *, header: str = HEADER, encoding: str = "utf-8-sig") -> bytes:
    return (header + body).encode(encoding)


def frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, dtype=str)


def row(**cells: str) -> dict[str, str]:
    base = {"group": GROUP_1, "domain": "วิชาการ", "text": "ครูไม่พอ"}
    return base | cells


def live_count(engine: Engine, workshop: Workshop) -> int:
    assert workshop.id is not None
    return len(issues.workshop_issues(engine, workshop.id))


def import_events(engine: Engine) -> list[AuditEvent]:
    with db.read(engine) as session:
        query = select(AuditEvent).where(AuditEvent.action == "issue.import")
        return list(session.exec(query))


@pytest.fixture
def ws(tmp_path: Path) -> tuple[Engine, Workshop]:
    return demo_workshop(tmp_path)


# --- read_table ------------------------------------------------------------------------


def test_csv_with_bom_and_thai() -> None:
    data = csv_bytes(f"{GROUP_1},วิชาการ,ครูไม่ครบชั้น,,,,\n")
    assert data.startswith(b"\xef\xbb\xbf")
    df = io_issues.read_table(data, "issues.CSV")
    assert list(df.columns)[:3] == ["group", "domain", "text"]
    assert df.loc[0, "text"] == "ครูไม่ครบชั้น"
    assert df.loc[0, "cause"] == ""  # empty cells stay empty strings, never NaN


def test_csv_without_bom() -> None:
    df = io_issues.read_table(csv_bytes("ก,ข,ค,,,,\n", encoding="utf-8"), "a.csv")
    assert df.loc[0, "group"] == "ก"


def test_csv_in_windows_thai_encoding() -> None:
    df = io_issues.read_table(csv_bytes("กลุ่ม ก,วิชาการ,ครูไม่พอ,,,,\n", encoding="cp874"), "a.csv")
    assert df.loc[0, "text"] == "ครูไม่พอ"


def test_numbers_are_read_as_text() -> None:
    df = io_issues.read_table(b"group,domain,text\n007,1,2.50\n", "a.csv")
    assert df.loc[0].tolist() == ["007", "1", "2.50"]


def test_xlsx_written_with_openpyxl(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["กลุ่ม", "ด้าน", "ประเด็นปัญหา", "ผู้ได้รับผลกระทบ"])
    sheet.append([GROUP_2, "งบประมาณ", "งบประมาณมาล่าช้า", "สถานศึกษา"])
    sheet.append([None, None, None, None])  # a blank row in the middle is skipped
    sheet.append([GROUP_1, "Budget", "จัดซื้อไม่ทัน", "school; area"])
    buffer = io.BytesIO()
    book.save(buffer)
    df = io_issues.read_table(buffer.getvalue(), "issues.xlsx")
    before = live_count(engine, workshop)
    assert io_issues.import_issues(engine, actor="test", workshop_id=workshop.id, df=df) == 2
    assert live_count(engine, workshop) == before + 2
    last = issues.workshop_issues(engine, workshop.id)[-1]
    assert (last.statement, last.affected) == ("จัดซื้อไม่ทัน", "school,area")


@pytest.mark.parametrize(
    ("data", "filename", "key"),
    [
        (b"group,domain,text\n", "a.txt", "error.import.format"),
        (b"group,domain,text\n", "a.xls", "error.import.format"),
        (b"not a zip file", "a.xlsx", "error.import.file"),
        (b"\xff\xfe\xfd", "a.csv", "error.import.encoding"),  # neither UTF-8 nor Windows Thai
        (b"", "a.csv", "error.import.empty"),
        (b"group,domain,text\n", "a.csv", "error.import.empty"),
        (b"group,domain,text\n,,\n , ,\n", "a.csv", "error.import.empty"),
    ],
)
def test_unreadable_files(data: bytes, filename: str, key: str) -> None:
    with pytest.raises(DomainError) as caught:
        io_issues.read_table(data, filename)
    assert caught.value.key == key


# --- validating ------------------------------------------------------------------------


def test_thai_header_aliases(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    header = "กลุ่ม,ด้าน,ประเด็นปัญหา,สาเหตุ,ผลกระทบ,ผู้ได้รับผลกระทบ,แนวทางแก้ไข\n"
    body = f"{GROUP_2},บริหารงานบุคคล,ครูย้ายบ่อย,ค่าครองชีพ,ขาดความต่อเนื่อง,สถานศึกษา,สร้างแรงจูงใจ\n"
    df = io_issues.read_table(csv_bytes(body, header=header), "a.csv")
    parsed, errors = io_issues.validate_import(engine, workshop.id, df)
    assert errors == []
    [only] = parsed
    assert only.row == 2
    assert only.fields.statement == "ครูย้ายบ่อย"
    assert only.fields.cause == "ค่าครองชีพ"
    assert only.fields.impact == "ขาดความต่อเนื่อง"
    assert only.fields.affected == "school"
    assert only.fields.fix == "สร้างแรงจูงใจ"


def test_names_and_headers_are_compared_after_nfc_and_strip(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    df = frame([row(group=f"  {GROUP_1} ", domain=" general ADMINISTRATION", text="Cafe\u0301")])
    df.columns = [" Group", "DOMAIN ", "text"]
    parsed, errors = io_issues.validate_import(engine, workshop.id, df)
    assert errors == []
    assert parsed[0].fields.statement == "Café"  # stored NFC


@pytest.mark.parametrize(
    ("cells", "column", "key"),
    [
        ({"group": "เขตตรวจราชการที่ 99"}, "group", "error.import.group"),
        ({"group": " "}, "group", "error.text.required"),
        ({"domain": "กีฬา"}, "domain", "error.import.domain"),
        ({"domain": ""}, "domain", "error.text.required"),
        ({"text": ""}, "text", "error.text.required"),
        ({"text": "ก" * 2001}, "text", "error.text.too_long"),
        ({"text": "ครู\x07ไม่พอ"}, "text", "error.text.control"),
        ({"cause": "ok\x00"}, "cause", "error.text.control"),
        ({"impact": "\u202eสลับ"}, "impact", "error.text.bidi"),
        ({"fix": "ข" * 2001}, "fix", "error.text.too_long"),
        ({"affected": "school, นักเรียน"}, "affected", "error.issue.affected"),
    ],
)
def test_row_errors(
    ws: tuple[Engine, Workshop], cells: dict[str, str], column: str, key: str
) -> None:
    engine, workshop = ws
    df = frame([row(), row(**cells)])
    parsed, errors = io_issues.validate_import(engine, workshop.id, df)
    assert [p.row for p in parsed] == [2]
    assert [(e.row, e.column, e.error.key) for e in errors] == [(3, column, key)]


def test_text_at_the_limit_is_accepted(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    _, errors = io_issues.validate_import(engine, workshop.id, frame([row(text="ก" * 2000)]))
    assert errors == []


def test_one_row_may_report_several_columns(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    df = frame([row(group="ไม่มี", domain="ไม่มี", text="")])
    _, errors = io_issues.validate_import(engine, workshop.id, df)
    assert [(e.row, e.column) for e in errors] == [(2, "group"), (2, "domain"), (2, "text")]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("", []),
        ("school", ["school"]),
        ("School ; AREA", ["school", "area"]),
        ("สถานศึกษา, ส่วนกลาง (สพฐ.)", ["school", "central"]),
        ("Regional cluster", ["cluster"]),
        ("school,,", ["school"]),
        ("นักเรียน", ["นักเรียน"]),  # kept, so validate() names it
    ],
)
def test_parse_affected(cell: str, expected: list[str]) -> None:
    assert io_issues.parse_affected(cell) == expected


def test_missing_required_columns() -> None:
    with pytest.raises(DomainError) as caught:
        io_issues.resolve_columns(["group", "cause"])
    assert caught.value.key == "error.import.columns"
    assert caught.value.values["columns"] == "domain, text"


def test_mapping(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    df = pd.DataFrame({"เขต": [GROUP_1], "หมวด": ["วิชาการ"], "ปัญหา": ["ห้องเรียนไม่พอ"]})
    mapping = {"group": "เขต", "domain": "หมวด", "text": "ปัญหา"}
    parsed, errors = io_issues.validate_import(engine, workshop.id, df, mapping)
    assert errors == []
    assert parsed[0].fields.statement == "ห้องเรียนไม่พอ"


def test_mapping_to_an_absent_column_is_reported() -> None:
    with pytest.raises(DomainError) as caught:
        io_issues.resolve_columns(["group", "domain", "text"], {"cause": "เหตุ"})
    assert caught.value.values["columns"] == "เหตุ"


# --- importing -------------------------------------------------------------------------


def test_all_or_nothing(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    body = (
        f"{GROUP_1},วิชาการ,ปัญหาที่หนึ่ง,,,,\n"
        f"{GROUP_2},ด้านที่ไม่มี,ปัญหาที่สอง,,,,\n"
        f"{GROUP_2},งบประมาณ,ปัญหาที่สาม,,,,\n"
    )
    df = io_issues.read_table(csv_bytes(body), "a.csv")
    before = live_count(engine, workshop)
    with pytest.raises(io_issues.ImportRejected) as caught:
        io_issues.import_issues(engine, actor="test", workshop_id=workshop.id, df=df)
    assert caught.value.key == "error.import.rows"
    assert caught.value.values == {"count": 1}
    [error] = caught.value.errors
    assert (error.row, error.column, error.error.key) == (3, "domain", "error.import.domain")
    assert live_count(engine, workshop) == before
    assert import_events(engine) == []


def test_rejection_counts_rows_not_cells(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    df = frame([row(group="x", domain="y"), row(), row(text="")])
    with pytest.raises(io_issues.ImportRejected) as caught:
        io_issues.import_issues(engine, actor="test", workshop_id=workshop.id, df=df)
    assert caught.value.values == {"count": 2}
    assert len(caught.value.errors) == 3


def test_one_transaction_one_audit_event(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    df = frame([row(text=f"ปัญหา {n}") for n in range(5)])
    assert io_issues.import_issues(engine, actor="organizer", workshop_id=workshop.id, df=df) == 5
    [event] = import_events(engine)
    assert event.actor == "organizer"
    assert event.workshop_id == workshop.id
    assert event.after is not None and event.after["count"] == 5
    with db.read(engine) as session:
        stored = [session.get(Issue, issue_id) for issue_id in event.after["ids"]]
    assert [i.statement for i in stored if i] == [f"ปัญหา {n}" for n in range(5)]


def test_import_is_allowed_in_any_phase(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    phases.set_phase(engine, actor="test", workshop_id=workshop.id, phase=Phase.PRESENT)
    assert io_issues.import_issues(engine, actor="t", workshop_id=workshop.id, df=frame([row()]))


def test_import_into_unknown_workshop(ws: tuple[Engine, Workshop]) -> None:
    engine, _ = ws
    with pytest.raises(DomainError) as caught:
        io_issues.import_issues(engine, actor="t", workshop_id=9999, df=frame([row()]))
    assert caught.value.key == "error.not_found.workshop"


def test_import_of_blank_rows_only(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    df = frame([row(group="", domain="", text="")])
    with pytest.raises(DomainError) as caught:
        io_issues.import_issues(engine, actor="t", workshop_id=workshop.id, df=df)
    assert caught.value.key == "error.import.empty"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("th", "แถว 7, ประเด็นปัญหา: กรุณากรอก “ประเด็นปัญหา”"),
        ("en", "Row 7, ประเด็นปัญหา: Please fill in “Problem”."),
    ],
)
def test_row_error_text(lang: str, expected: str) -> None:
    error = io_issues.RowError(
        7, "ประเด็นปัญหา", DomainError("error.text.required", field="statement")
    )
    assert io_issues.row_error_text(lang, error) == expected


# --- exporting -------------------------------------------------------------------------


def test_export_neutralises_formulas_and_skips_deleted(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws
    group_id = next(g.id for g in workshops.list_groups(engine, workshop.id) if g.name == GROUP_1)
    domain_id = issues.workshop_issues(engine, workshop.id)[0].domain_id
    identity = Identity(Role.GROUP, workshop.id, group_id)
    formula = issues.add_issue(
        engine,
        identity=identity,
        data=issues.IssueInput(domain_id=domain_id, statement="=1+1", cause="@SUM(A1)"),
    )
    gone = issues.add_issue(
        engine, identity=identity, data=issues.IssueInput(domain_id=domain_id, statement="ลบแล้ว")
    )
    issues.delete_issue(engine, identity=identity, issue_id=gone.id)

    data = io_issues.export_issues_csv(engine, workshop.id)
    assert data.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(df.columns) == list(io_issues.EXPORT_COLUMNS)
    assert len(df) == live_count(engine, workshop)
    exported = df[df["id"] == str(formula.id)].iloc[0]
    assert exported["text"] == "'=1+1"
    assert exported["cause"] == "'@SUM(A1)"
    assert exported["group"] == GROUP_1
    assert "ลบแล้ว" not in set(df["text"])
    assert exported["created_at"].endswith("+00:00")


def test_export_of_a_workshop_without_issues(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    spec = tmp_path / "tiny.toml"
    spec.write_text(
        'slug = "tiny"\ntitle = "t"\nstarts_on = 2018-03-14\nends_on = 2018-03-14\n'
        'groups = ["ก"]\n[[domains]]\nname = "ข"\n',
        encoding="utf-8",
    )
    workshop = demo.load_demo(engine, path=spec)
    data = io_issues.export_issues_csv(engine, workshop.id)
    assert data.decode("utf-8-sig").strip() == ",".join(io_issues.EXPORT_COLUMNS)


def test_export_then_import_round_trip(ws: tuple[Engine, Workshop]) -> None:
    engine, workshop = ws

    def contents() -> list[tuple[object, ...]]:
        return sorted(
            (i.group_id, i.domain_id, i.statement, i.cause, i.impact, i.affected, i.fix)
            for i in issues.workshop_issues(engine, workshop.id)
        )

    original = contents()
    data = io_issues.export_issues_csv(engine, workshop.id)
    df = io_issues.read_table(data, "export.csv")
    count = io_issues.import_issues(engine, actor="t", workshop_id=workshop.id, df=df)
    assert count == len(original) > 0
    assert contents() == sorted(original * 2)


def test_level_labels_come_from_the_catalogue() -> None:
    # The Thai labels a file may use are the ones the form shows.
    assert io_issues.parse_affected(i18n.t("th", "level.area")) == ["area"]


def test_export_carries_theme_votes_and_recommendations(ws: tuple[Engine, Workshop]) -> None:
    import csv

    from models import recommendations, themes, votes

    cli_engine, workshop = ws
    ids = [i.id for i in themes.board(cli_engine, workshop.id).ungrouped]
    theme = themes.create_theme(
        cli_engine, actor="facilitator", workshop_id=workshop.id, title="ครูไม่พอ", issue_ids=ids[:2]
    )
    phases.set_phase(cli_engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.VOTE)
    group = workshops.list_groups(cli_engine, workshop.id)[3]
    votes.cast_votes(
        cli_engine, identity=Identity(Role.GROUP, workshop.id, group.id), theme_id=theme.id, count=2
    )
    phases.set_phase(
        cli_engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.RECOMMEND
    )
    recommendations.add_recommendation(
        cli_engine,
        identity=Identity(Role.FACILITATOR),
        theme_id=theme.id,
        workshop_id=workshop.id,
        data=recommendations.RecommendationInput(level="school", text="=ใช้ครูร่วมกัน"),
    )
    data = io_issues.export_issues_csv(cli_engine, workshop.id).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[ids[0]]["theme"] == "ครูไม่พอ"
    assert by_id[ids[0]]["theme_votes"] == "2"
    assert by_id[ids[0]]["recommendations"] == "school: =ใช้ครูร่วมกัน"
    assert by_id[ids[5]]["theme"] == "" and by_id[ids[5]]["theme_votes"] == ""


# --- hostile sizes and encodings -------------------------------------------------------

HOSTILE_IMPORTS = Path(__file__).resolve().parent / "data" / "hostile" / "imports"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("rows_1400000.xlsx", "error.import.too_many_rows"),  # the sheet declares its size
        ("rows_1400000_no_dimension.xlsx", "error.import.too_many_rows_over"),  # it does not
    ],
)
def test_a_sheet_of_a_million_rows_is_refused_in_bounded_memory(name: str, key: str) -> None:
    # 354 KB that unpack to 99 MB of rows: pandas read all 1.4 M (800 MB) before refusing.
    data = (HOSTILE_IMPORTS / name).read_bytes()
    assert len(data) < io_issues.MAX_IMPORT_BYTES
    tracemalloc.start()
    try:
        with pytest.raises(DomainError) as refused:
            io_issues.read_table(data, name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused.value.key == key
    assert peak < 32 * 2**20, f"{peak / 2**20:.0f} MiB"
    if key == "error.import.too_many_rows":
        assert refused.value.values["count"] == 1_400_000


def test_blank_formatted_rows_after_the_data_do_not_count(ws: tuple[Engine, Workshop]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["group", "domain", "text"])
    sheet.append([GROUP_1, "วิชาการ", "ครูไม่พอ"])
    for row in range(3, io_issues.MAX_IMPORT_ROWS + 50):  # styled, empty: Excel writes these
        sheet.cell(row=row, column=1).number_format = "@"
    buffer = io.BytesIO()
    book.save(buffer)
    df = io_issues.read_table(buffer.getvalue(), "styled.xlsx")
    assert df["text"].tolist() == ["ครูไม่พอ"]


def test_latin1_csv_is_refused_naming_the_line_rather_than_stored_as_thai(
    ws: tuple[Engine, Workshop],
) -> None:
    engine, workshop = ws
    workshops.add_group(engine, actor="t", workshop_id=workshop.id, name="Group A")
    before = live_count(engine, workshop)
    for encoding in ("latin-1", "cp1252"):
        data = csv_bytes("Group A,Academic,Café crème,,,,\n", encoding=encoding)
        with pytest.raises(DomainError) as refused:  # was read as cp874: "Caf้ cr่me"
            df = io_issues.read_table(data, "latin.csv")
            io_issues.import_issues(engine, actor="t", workshop_id=workshop.id, df=df)
        assert (refused.value.key, refused.value.values) == (
            "error.import.encoding_line",
            {"line": 2},
        )
        for lang in i18n.LANGS:
            assert "UTF-8" in i18n.error_message(lang, refused.value)
    assert live_count(engine, workshop) == before


@pytest.mark.parametrize(
    ("text", "thai"),
    [
        ("ครูไม่พอ", True),
        ("ครูสอน English ไม่พอ (ESL) Wi-Fi ช้า", True),
        ("งบ 5000 บาท ไม่พอ", True),
        ("Café", False),  # é → ้ on a Latin letter
        ("naïve", False),  # ï → ๏ inside a Latin word
        ("Straße", False),  # ß → ฿ inside a Latin word
    ],
)
def test_what_reads_as_windows_thai(text: str, thai: bool) -> None:
    encoding = "cp874" if thai else "cp1252"
    data = csv_bytes(
        f"{GROUP_1},วิชาการ,{text},,,,\n" if thai else f"g,d,{text},,,,\n", encoding=encoding
    )
    if thai:
        df = io_issues.read_table(data, "a.csv")
        assert df.loc[0, "text"] == text
        assert df.attrs["encoding"] == "cp874"  # the page says how the file was read
    else:
        with pytest.raises(DomainError) as refused:
            io_issues.read_table(data, "a.csv")
        assert refused.value.key == "error.import.encoding_line"


def test_utf8_csv_is_read_without_a_note() -> None:
    df = io_issues.read_table(csv_bytes(f"{GROUP_1},วิชาการ,ครูไม่พอ,,,,\n"), "a.csv")
    assert df.attrs["encoding"] == "utf-8"
