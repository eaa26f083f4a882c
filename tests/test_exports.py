"""Result tables (CSV zip, XLSX) read back by real readers, and backup → restore round trips."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

from models import (
    audit,
    backup,
    db,
    exports,
    phases,
    recommendations,
    report,
    themes,
    undo,
    votes,
    workshops,
)
from models.access import Identity
from models.errors import DomainError
from models.issues import delete_issue
from models.report.images import report_figures
from models.schema import AuditEvent, BreakoutGroup, Issue, Phase, Role, Workshop
from tests.factories import add_issue, group_identity, make_workshop

STAFF = Identity(Role.FACILITATOR)
FORMULA = '=HYPERLINK("http://example.com","คลิก")'
LONG = "การจัดสรรอัตรากำลังครูไม่สอดคล้องกับจำนวนนักเรียน " * 3 + "\nบรรทัดที่สอง"
VECTOR = bytes(range(256)) * 2


# --- helpers (test-only) ---------------------------------------------------------------


def rich_workshop(engine: Engine, slug: str = "test-ws") -> Workshop:
    """A workshop that has been through every phase: something of every kind to back up."""
    ws = make_workshop(engine, slug=slug)  # 3 groups, 2 domains, collect phase
    wid: int = ws.id  # type: ignore[assignment]
    data = workshops.WorkshopInput(
        title=ws.title, starts_on=ws.starts_on, ends_on=ws.ends_on, groups_score=True
    )
    workshops.update_workshop(engine, actor="organizer", workshop_id=wid, data=data)
    a = add_issue(engine, ws, group=0, statement="ครูไม่พอ ขาดครูวิชาเอก", affected=["school", "area"])
    b = add_issue(engine, ws, group=1, domain=1, statement=FORMULA, cause="+cmd")
    c = add_issue(engine, ws, group=2, statement=LONG)
    gone = add_issue(engine, ws, group=0, statement="ประเด็นที่ถูกลบ")
    hidden = add_issue(engine, ws, group=1, statement="ไม่เกี่ยวข้อง")
    dup = add_issue(engine, ws, group=2, statement="ครูขาดแคลน")
    merged = add_issue(engine, ws, group=0, domain=1, statement="งบซ่อมอาคารล่าช้า")
    delete_issue(engine, identity=group_identity(engine, ws, 0), issue_id=gone.id)  # type: ignore[arg-type]
    with db.write(engine) as session:  # vectors come from the text model; any bytes will do
        row = session.get(Issue, a.id)
        assert row is not None
        row.vector = VECTOR
        session.add(row)
    temporary = workshops.add_group(engine, actor="organizer", workshop_id=wid, name="ชั่วคราว")
    workshops.remove_group(engine, actor="organizer", group_id=temporary.id)  # type: ignore[arg-type]
    phases.set_phase(engine, actor="facilitator", workshop_id=wid, phase=Phase.GROUP)
    t1 = themes.create_theme(
        engine, actor="facilitator", workshop_id=wid, title="ครูไม่เพียงพอ", issue_ids=[a.id, c.id]
    )
    t2 = themes.create_theme(
        engine, actor="facilitator", workshop_id=wid, title="งบประมาณ", issue_ids=[b.id]
    )
    t3 = themes.create_theme(
        engine, actor="facilitator", workshop_id=wid, title="อาคาร", issue_ids=[merged.id]
    )
    themes.merge_themes(
        engine, actor="facilitator", workshop_id=wid, source_id=t3.id, target_id=t2.id
    )  # type: ignore[arg-type]
    themes.mark_duplicates(
        engine, actor="facilitator", workshop_id=wid, original_id=a.id, duplicate_ids=[dup.id]
    )
    themes.hide_issues(
        engine, actor="facilitator", workshop_id=wid, issue_ids=[hidden.id], reason="นอกขอบเขต"
    )
    phases.set_phase(engine, actor="facilitator", workshop_id=wid, phase=Phase.VOTE)
    votes.cast_votes(engine, identity=group_identity(engine, ws, 0), theme_id=t1.id, count=3)  # type: ignore[arg-type]
    votes.cast_votes(engine, identity=group_identity(engine, ws, 1), theme_id=t2.id, count=2)  # type: ignore[arg-type]
    votes.cast_votes(engine, identity=group_identity(engine, ws, 2), theme_id=t1.id, count=1)  # type: ignore[arg-type]
    votes.set_score(engine, identity=STAFF, theme_id=t1.id, impact=5, feasibility=3)  # type: ignore[arg-type]
    votes.set_score(
        engine, identity=group_identity(engine, ws, 1), theme_id=t1.id, impact=4, feasibility=4
    )  # type: ignore[arg-type]
    phases.set_phase(engine, actor="facilitator", workshop_id=wid, phase=Phase.RECOMMEND)
    rec = recommendations.RecommendationInput
    recommendations.add_recommendation(
        engine,
        identity=STAFF,
        theme_id=t1.id,  # type: ignore[arg-type]
        data=rec(level="cluster", text="-ใช้ครูแกนนำร่วมกัน", owner="สพฐ.", priority=1),
    )
    recommendations.add_recommendation(
        engine,
        identity=group_identity(engine, ws, 2),
        theme_id=t2.id,  # type: ignore[arg-type]
        data=rec(level="school", text="ให้โรงเรียนจัดซื้อเอง", timeframe="ภายในปี 2561"),
    )
    dropped = recommendations.add_recommendation(
        engine,
        identity=STAFF,
        theme_id=t2.id,
        data=rec(level="area", text="จะถูกลบ"),  # type: ignore[arg-type]
    )
    recommendations.delete_recommendation(engine, identity=STAFF, recommendation_id=dropped.id)  # type: ignore[arg-type]
    return workshops.get_workshop(engine, workshop_id=wid)


def row_counts(engine: Engine) -> dict[str, int]:
    with db.read(engine) as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def sqlite_file(path: Path) -> Engine:
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    return engine


def without_ids(tables: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """The tables' cells, minus the columns that show database ids."""
    out = {}
    for name, df in tables.items():
        keep = [c for c in df.columns if c not in ("เลขที่", "ซ้ำกับประเด็นเลขที่")]
        out[name] = df[keep].to_numpy().tolist()
    return out


@pytest.fixture
def rich(engine: Engine) -> Workshop:
    return rich_workshop(engine)


# --- result tables ---------------------------------------------------------------------


def test_tables_hold_the_results_in_thai(engine: Engine, rich: Workshop) -> None:
    tables = exports.export_tables(engine, rich.id, "th")  # type: ignore[arg-type]
    assert list(tables) == list(exports.SHEETS)
    issues = tables["Issues"]
    assert list(issues.columns)[:4] == ["เลขที่", "กลุ่ม", "ด้าน", "ประเด็นปัญหา"]
    assert "ประเด็นที่ถูกลบ" not in set(issues["ประเด็นปัญหา"])  # soft-deleted: left out
    by_text = issues.set_index("ประเด็นปัญหา")
    assert by_text.loc["ไม่เกี่ยวข้อง", "เหตุผลที่ซ่อน"] == "นอกขอบเขต"
    first = by_text.loc["ครูไม่พอ ขาดครูวิชาเอก"]
    assert first["ประเด็นหลัก"] == "ครูไม่เพียงพอ"
    assert first["ผู้ได้รับผลกระทบ"] == "สถานศึกษา, สำนักงานเขตพื้นที่การศึกษา"
    assert by_text.loc["ครูขาดแคลน", "ซ้ำกับประเด็นเลขที่"] == first["เลขที่"]
    assert isinstance(first["เวลาที่บันทึก"], dt.datetime)
    ranked = tables["Themes"].to_numpy().tolist()
    assert [row[:6] for row in ranked] == [
        [1, "ครูไม่เพียงพอ", "", 3, "2 จาก 3", 4],
        [2, "งบประมาณ", "", 2, "2 จาก 3", 2],
    ]
    assert ranked[0][6:] == [4.5, 3.5] and ranked[1][6:] == [None, None]
    assert tables["Votes"].to_numpy().tolist() == [
        ["กลุ่ม 1", "ครูไม่เพียงพอ", 3],
        ["กลุ่ม 2", "งบประมาณ", 2],
        ["กลุ่ม 3", "ครูไม่เพียงพอ", 1],
    ]
    assert tables["Scores"].to_numpy().tolist() == [
        ["ผู้ดำเนินการประชุม", "ครูไม่เพียงพอ", 5, 3],
        ["กลุ่ม 2", "ครูไม่เพียงพอ", 4, 4],
    ]
    assert tables["Recommendations"].to_numpy().tolist() == [
        [
            "ครูไม่เพียงพอ",
            "เขตตรวจราชการ (CLUSTER)",
            "-ใช้ครูแกนนำร่วมกัน",
            "สพฐ.",
            "",
            "สูง",
            "เห็นชอบแล้ว",
            "",
        ],
        [
            "งบประมาณ",
            "สถานศึกษา",
            "ให้โรงเรียนจัดซื้อเอง",
            "",
            "ภายในปี 2561",
            "ปานกลาง",
            "รอพิจารณา",
            "กลุ่ม 3",
        ],
    ]
    summary = tables["Summary"]
    assert list(summary.columns) == ["กลุ่ม", "วิชาการ", "งบประมาณ", "รวม"]
    assert summary.to_numpy().tolist() == [
        ["กลุ่ม 1", 1, 1, 2],
        ["กลุ่ม 2", 1, 1, 2],
        ["กลุ่ม 3", 2, 0, 2],
        ["รวม", 4, 2, 6],
    ]


def test_tables_in_english(engine: Engine, rich: Workshop) -> None:
    tables = exports.export_tables(engine, rich.id, "en")  # type: ignore[arg-type]
    assert list(tables["Summary"].columns) == ["Group", "Academic", "Budget", "Total"]
    header = ["Rank", "Theme", "Description", "Problems", "Groups raising it"]
    assert list(tables["Themes"].columns)[:5] == header
    assert tables["Themes"].iloc[0, 4] == "2 of 3"
    assert tables["Recommendations"].iloc[0, 1] == "Regional cluster"
    assert tables["Recommendations"].iloc[0, 5:7].tolist() == ["High", "Accepted"]
    assert tables["Issues"].iloc[0, 2] == "Academic"


def test_xlsx_read_back_with_openpyxl(engine: Engine, rich: Workshop) -> None:
    tables = exports.export_tables(engine, rich.id, "th")  # type: ignore[arg-type]
    data = exports.to_xlsx(tables, title=rich.title)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == list(exports.SHEETS)
    assert book.properties.title == rich.title
    for name, df in tables.items():
        sheet = book[name]
        assert [c.value for c in sheet[1]] == list(df.columns)
        assert all(c.font.bold for c in sheet[1])
        assert sheet.freeze_panes == "A2"
        last = openpyxl.utils.get_column_letter(len(df.columns))
        assert sheet.auto_filter.ref == f"A1:{last}{len(df) + 1}"
    issues = book["Issues"]
    header = [c.value for c in issues[1]]
    statement = header.index("ประเด็นปัญหา") + 1
    cells = {issues.cell(row, statement).value: issues.cell(row, statement) for row in range(2, 8)}
    formula = cells["'" + FORMULA]  # neutralised, and stored as text
    assert formula.data_type == "s"
    assert issues.cell(formula.row, statement + 1).value == "'+cmd"
    long_cell = cells[LONG]
    assert long_cell.alignment.wrap_text
    letter = openpyxl.utils.get_column_letter
    assert issues.column_dimensions[letter(statement)].width == exports.MAX_WIDTH
    assert issues.column_dimensions["A"].width == 8  # "เลขที่" and small numbers
    group_width = len("กลุ่ม 1") + 2  # a Thai character counts as one
    assert issues.column_dimensions["B"].width == max(8, group_width)
    created = issues.cell(2, header.index("เวลาที่บันทึก") + 1)
    assert isinstance(created.value, dt.datetime) and created.number_format == "yyyy-mm-dd hh:mm"
    themes_sheet = book["Themes"]
    assert themes_sheet["B2"].value == "ครูไม่เพียงพอ" and themes_sheet["G2"].value == 4.5


def test_csv_zip_read_back(engine: Engine, rich: Workshop) -> None:
    tables = exports.export_tables(engine, rich.id, "th")  # type: ignore[arg-type]
    data = exports.to_csv_zip(tables)
    assert data == exports.to_csv_zip(tables)  # no timestamps inside: same tables, same bytes
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == [f"{name.lower()}.csv" for name in exports.SHEETS]
    for name, df in tables.items():
        raw = archive.read(f"{name.lower()}.csv")
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0] == list(df.columns)
        assert len(rows) == len(df) + 1
    issues = list(csv.DictReader(io.StringIO(archive.read("issues.csv").decode("utf-8-sig"))))
    texts = {row["ประเด็นปัญหา"] for row in issues}
    assert "'" + FORMULA in texts and LONG in texts and FORMULA not in texts
    assert {row["สาเหตุ"] for row in issues} >= {"'+cmd"}
    duplicate = next(row for row in issues if row["ประเด็นปัญหา"] == "ครูขาดแคลน")
    assert duplicate["ซ้ำกับประเด็นเลขที่"].isdigit()  # 12, never 12.0
    themes_rows = list(csv.reader(io.StringIO(archive.read("themes.csv").decode("utf-8-sig"))))
    assert themes_rows[2][6:] == ["", ""]  # unscored: empty, not "None"


def test_report_reads_the_results(engine: Engine, rich: Workshop) -> None:
    """What the DOCX and PDF print, as read from the database on each backend."""
    data = report.collect(engine, rich.id, "th")  # type: ignore[arg-type]
    assert (data.issue_count, data.groups_active, data.theme_count, data.votes_cast) == (6, 3, 2, 6)
    assert data.by_domain == (("วิชาการ", 4), ("งบประมาณ", 2))
    assert [
        (t.rank, t.title, t.votes, t.raised_by, t.impact, t.feasibility, len(t.issues))
        for t in data.themes
    ] == [
        (1, "ครูไม่เพียงพอ", 4, ("กลุ่ม 1", "กลุ่ม 3"), 4.5, 3.5, 3),  # the duplicate listed too
        (2, "งบประมาณ", 2, ("กลุ่ม 1", "กลุ่ม 2"), None, None, 2),  # the merged theme's issue
    ]
    accepted = [(s.level, [i.text for i in s.items]) for s in data.recommendations if s.items]
    assert accepted == [("cluster", ["-ใช้ครูแกนนำร่วมกัน"])]  # the group's is only proposed
    assert [(a.group, a.issue_count) for a in data.appendix] == [
        ("กลุ่ม 1", 2),
        ("กลุ่ม 2", 2),
        ("กลุ่ม 3", 2),
    ]
    figures = report_figures(engine, rich.id, "th")  # type: ignore[arg-type]
    assert list(figures) == ["by_domain", "heatmap", "top_themes", "bubble"]


@pytest.mark.sqlite_only(
    "every format reads the database through export_tables, report.collect and"
    " report_figures, which the tests above run on each backend; turning those into bytes"
    " (charts drawn by Chrome, DOCX, PDF) is the same on both and takes seconds"
)
def test_every_format_builds(engine: Engine, rich: Workshop) -> None:
    for fmt, spec in exports.FORMATS.items():
        data = spec.build(engine, rich, "th")
        assert data, fmt
        assert exports.file_name(rich, fmt).startswith("test-ws")


# --- backup and restore ----------------------------------------------------------------


def test_backup_is_complete_and_stable(engine: Engine, rich: Workshop) -> None:
    data = backup.backup_json(engine, rich.id)  # type: ignore[arg-type]
    assert data == backup.backup_json(engine, rich.id)  # type: ignore[arg-type]
    doc = json.loads(data)
    assert doc["format"] == backup.FORMAT and doc["version"] == backup.FORMAT_VERSION
    assert list(doc) == sorted(doc)
    assert len(doc["issues"]) == 7  # the deleted and the hidden one included
    assert [g["id"] for g in doc["groups"]] == [1, 2, 3]
    assert all(g["join_code"] for g in doc["groups"]) and doc["workshop"]["view_code"]
    assert sum(1 for i in doc["issues"] if i["deleted_at"]) == 1
    assert sum(1 for t in doc["themes"] if t["merged_into_id"]) == 1
    # Every issue gets its sentence vector when written; the one set by hand is kept as is.
    assert base64.b64encode(VECTOR).decode() in [i["vector"] for i in doc["issues"]]
    assert len(doc["votes"]) == 3 and len(doc["scores"]) == 2
    assert len(doc["recommendations"]) == 2  # the deleted one lives on in history only
    removed = next(e for e in doc["audit_events"] if e["action"] == "group.remove")
    assert removed["entity_id"] == 4  # after the three groups: a removed row's own id
    dropped = next(e for e in doc["audit_events"] if e["action"] == "recommendation.delete")
    assert list(dropped["before"]["rows"]) == ["recommendation:3"]


def test_round_trip_is_byte_identical(tmp_path: Path) -> None:
    first = sqlite_file(tmp_path / "first.db")
    make_workshop(first, slug="other-first")  # ids in `first` do not start at 1
    original = rich_workshop(first)
    data = backup.backup_json(first, original.id)  # type: ignore[arg-type]
    second = sqlite_file(tmp_path / "second.db")
    restored = backup.restore_json(second, data, actor="organizer")
    assert backup.backup_json(second, restored.id) == data  # type: ignore[arg-type]
    assert without_ids(exports.export_tables(second, restored.id, "th")) == without_ids(  # type: ignore[arg-type]
        exports.export_tables(first, original.id, "th")  # type: ignore[arg-type]
    )
    third = sqlite_file(tmp_path / "third.db")
    again = backup.restore_json(third, backup.backup_json(second, restored.id), actor="cli")  # type: ignore[arg-type]
    assert backup.backup_json(third, again.id) == data  # type: ignore[arg-type]
    assert [g.join_code for g in workshops.list_groups(second, restored.id)] == [  # type: ignore[arg-type]
        g.join_code
        for g in workshops.list_groups(first, original.id)  # type: ignore[arg-type]
    ]


def test_restore_into_a_database_with_other_workshops(engine: Engine, tmp_path: Path) -> None:
    source = sqlite_file(tmp_path / "source.db")
    data = backup.backup_json(source, rich_workshop(source).id)  # type: ignore[arg-type]
    here = make_workshop(engine, slug="already-here", groups=5)
    restored = backup.restore_json(engine, data, actor="organizer")
    assert restored.id > here.id  # type: ignore[operator]
    # New ids throughout, yet the same backup: its ids are its own, not the database's.
    assert backup.backup_json(engine, restored.id) == data  # type: ignore[arg-type]
    with db.read(engine) as session:
        newest = audit.events(session, restored.id, limit=1)  # type: ignore[arg-type]
    assert [(e.action, e.after["issues"]) for e in newest] == [(backup.RESTORE_ACTION, 7)]  # type: ignore[index]


def test_restore_beside_the_original(engine: Engine, rich: Workshop) -> None:
    data = backup.backup_json(engine, rich.id)  # type: ignore[arg-type]
    before = row_counts(engine)
    with pytest.raises(DomainError) as refused:
        backup.restore_json(engine, data, actor="organizer")
    assert refused.value.key == "error.restore.slug_taken"
    assert row_counts(engine) == before
    copy = backup.restore_json(engine, data, actor="organizer", slug="test-ws-copy")
    assert copy.slug == "test-ws-copy" and copy.id != rich.id
    assert copy.view_code != rich.view_code
    old_codes = {g.join_code for g in workshops.list_groups(engine, rich.id)}  # type: ignore[arg-type]
    new_codes = {g.join_code for g in workshops.list_groups(engine, copy.id)}  # type: ignore[arg-type]
    assert len(new_codes) == 3 and not old_codes & new_codes
    assert without_ids(exports.export_tables(engine, copy.id, "th")) == without_ids(  # type: ignore[arg-type]
        exports.export_tables(engine, rich.id, "th")  # type: ignore[arg-type]
    )
    with db.read(engine) as session:
        restores = session.exec(
            select(AuditEvent).where(AuditEvent.action == backup.RESTORE_ACTION)
        ).all()
    assert [(e.workshop_id, e.actor) for e in restores] == [(copy.id, "organizer")]
    # Same workshop, other slug and codes: the copy backs up to the original's content.
    mine, theirs = json.loads(backup.backup_json(engine, copy.id)), json.loads(data)  # type: ignore[arg-type]
    for doc in (mine, theirs):
        doc["workshop"]["slug"] = doc["workshop"]["view_code"] = ""
        for group in doc["groups"]:
            group["join_code"] = ""
    assert mine == theirs


def test_undo_on_a_restored_copy_leaves_the_original_alone(engine: Engine, rich: Workshop) -> None:
    data = backup.backup_json(engine, rich.id)  # type: ignore[arg-type]
    copy = backup.restore_json(engine, data, actor="organizer", slug="test-ws-copy")
    undone = undo.undo_last(engine, actor="facilitator", workshop_id=copy.id)  # type: ignore[arg-type]
    assert undone.action == "recommendation.delete"  # put back under its new id
    assert [r.text for r in recommendations.for_workshop(engine, copy.id)].count("จะถูกลบ") == 1  # type: ignore[arg-type]
    for _ in range(2):  # its add, then the facilitator's other one (the group's stays)
        undo.undo_last(engine, actor="facilitator", workshop_id=copy.id)  # type: ignore[arg-type]
    left = recommendations.for_workshop(engine, copy.id)  # type: ignore[arg-type]
    assert [r.text for r in left] == ["ให้โรงเรียนจัดซื้อเอง"]
    assert backup.backup_json(engine, rich.id) == data  # type: ignore[arg-type]


def _edit(change: Any) -> Any:
    def corrupt(data: bytes) -> bytes:
        doc = json.loads(data)
        change(doc)
        return json.dumps(doc, ensure_ascii=False).encode()

    return corrupt


def _set(path: str, value: Any) -> Any:
    *parents, last = path.split(".")

    def change(doc: Any) -> None:
        for part in parents:
            doc = doc[int(part)] if part.isdigit() else doc[part]
        doc[int(last) if last.isdigit() else last] = value

    return _edit(change)


CORRUPTIONS = {
    "not_json": (lambda data: data[: len(data) // 2], "error.restore.not_json"),
    "cp874": (
        lambda data: data.decode().encode("cp874", errors="replace"),
        "error.restore.encoding",
    ),
    "empty": (lambda data: b"", "error.restore.not_json"),
    "not_a_backup": (lambda data: b'{"hello": "world"}', "error.restore.format"),
    "a_list": (lambda data: b"[1, 2]", "error.restore.format"),
    "version": (_set("version", 2), "error.restore.version"),
    "version_text": (_set("version", "1"), "error.restore.version"),
    "nan": (lambda data: data.replace(b'"count": 3', b'"count": NaN'), "error.restore.not_json"),
    "duplicate_key": (
        lambda data: data.replace(b'"count": 3', b'"count": 3, "count": 4'),
        "error.restore.not_json",
    ),
    "deep": (lambda data: b"[" * 100_000 + b"]" * 100_000, "error.restore.not_json"),
    "bad_group": (_set("issues.0.group_id", 99), "error.restore.reference"),
    "bad_theme": (_set("votes.0.theme_id", 99), "error.restore.reference"),
    "bad_merge": (_set("themes.0.merged_into_id", 99), "error.restore.reference"),
    "bad_scorer": (_set("scores.1.scorer", "group:99"), "error.restore.reference"),
    "missing_section": (_edit(lambda d: d.pop("votes")), "error.restore.structure"),
    "extra_section": (_set("secrets", []), "error.restore.structure"),
    "missing_field": (_edit(lambda d: d["issues"][0].pop("statement")), "error.restore.structure"),
    "extra_field": (_set("groups.0.admin", True), "error.restore.structure"),
    "wrong_type": (_set("votes.0.count", "3"), "error.restore.structure"),
    "bool_for_int": (_set("votes.0.count", True), "error.restore.structure"),
    "huge_int": (_set("votes.0.count", 10**30), "error.restore.structure"),
    "negative_id": (_set("domains.0.id", -1), "error.restore.structure"),
    "bidi": (_set("issues.0.statement", "ครู\u202eไม่พอ"), "error.restore.structure"),
    "control": (_set("issues.0.statement", "ครู\x00"), "error.restore.structure"),
    "too_long": (_set("groups.0.name", "ก" * 201), "error.restore.structure"),
    "naive_time": (_set("issues.0.created_at", "2018-03-14T09:00:00"), "error.restore.structure"),
    "bad_date": (_set("workshop.starts_on", "14/03/2561"), "error.restore.structure"),
    "bad_vector": (_set("issues.0.vector", "not base64!"), "error.restore.structure"),
    "phase": (_set("workshop.phase", "party"), "error.restore.structure"),
    "level": (_set("recommendations.0.level", "ministry"), "error.restore.structure"),
    "affected": (_set("issues.0.affected", "school,moon"), "error.restore.structure"),
    "score_range": (_set("scores.0.impact", 9), "error.restore.structure"),
    "bad_slug": (_set("workshop.slug", "../etc"), "error.restore.structure"),
    "same_code": (
        _edit(lambda d: d["groups"][1].update(join_code=d["groups"][0]["join_code"])),
        "error.restore.structure",
    ),
    "same_name": (_set("groups.1.name", "กลุ่ม 1"), "error.restore.structure"),
    "same_id": (_set("groups.1.id", 1), "error.restore.structure"),
    "payload_not_object": (_set("audit_events.0.after", [1, 2]), "error.restore.structure"),
    "payload_odd_table": (
        _set("audit_events.0.after", {"rows": {"app_secret:1": None}}),
        "error.restore.structure",
    ),
    "payload_odd_rows": (_set("audit_events.0.before", {"rows": [1]}), "error.restore.structure"),
}


@pytest.mark.sqlite_only(
    "each corruption is refused while the file is read and checked, before a transaction"
    " opens; a failure once rows are being written is test_a_failure_while_writing_writes_nothing,"
    " on each backend"
)
@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupted_backup_writes_nothing(engine: Engine, rich: Workshop, corruption: str) -> None:
    change, key = CORRUPTIONS[corruption]
    data = change(backup.backup_json(engine, rich.id))  # type: ignore[arg-type]
    before = row_counts(engine)
    with pytest.raises(DomainError) as refused:
        backup.restore_json(engine, data, actor="organizer", slug="restored")
    assert refused.value.key == key
    assert row_counts(engine) == before


def test_a_failure_while_writing_writes_nothing(
    engine: Engine, rich: Workshop, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = backup.backup_json(engine, rich.id)  # type: ignore[arg-type]
    before = row_counts(engine)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(backup.audit, "record", broken)  # fails after every row is in
    with pytest.raises(RuntimeError):
        backup.restore_json(engine, data, actor="organizer", slug="restored")
    assert row_counts(engine) == before


def test_restore_refuses_a_bad_new_slug(engine: Engine, rich: Workshop) -> None:
    data = backup.backup_json(engine, rich.id)  # type: ignore[arg-type]
    with pytest.raises(DomainError) as refused:
        backup.restore_json(engine, data, actor="organizer", slug="Not A Slug")
    assert refused.value.key == "error.workshop.slug"


def test_too_large_is_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup, "MAX_BACKUP_BYTES", 10)
    with pytest.raises(DomainError) as refused:
        backup.restore_json(db.make_engine("sqlite://"), b"{" * 11, actor="organizer")
    assert refused.value.key == "error.restore.too_large"


def test_restored_rows_keep_their_relations(engine: Engine, rich: Workshop) -> None:
    copy = backup.restore_json(
        engine,
        backup.backup_json(engine, rich.id),  # type: ignore[arg-type]
        actor="organizer",
        slug="copy",
    )
    with db.read(engine) as session:
        groups = {
            g.id
            for g in session.exec(select(BreakoutGroup).where(BreakoutGroup.workshop_id == copy.id))
        }
        issues = list(session.exec(select(Issue).where(Issue.workshop_id == copy.id)))
    assert len(groups) == 3 and {i.group_id for i in issues} <= groups
    duplicate = next(i for i in issues if i.duplicate_of_id)
    original = next(i for i in issues if i.id == duplicate.duplicate_of_id)
    assert original.statement == "ครูไม่พอ ขาดครูวิชาเอก" and original.vector == VECTOR
    assert duplicate.theme_id == original.theme_id
