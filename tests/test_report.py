"""The workshop report: its data, Thai line breaking, and the DOCX and PDF read back.

The documents are checked with real readers (python-docx, pypdf, pypdfium2) and the
charts come from a real headless Chrome through kaleido. Page 1 of the PDF is compared
with tests/data/report_page1.png, a render that was checked by eye; nothing here
rewrites it. After an intended layout change, look at the new render and replace it:
`.venv/bin/python -m tests.test_report` writes tests/data/report_page1.new.png.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader
from sqlalchemy.engine import Engine

from models import (
    db,
    demo,
    fonts,
    issues,
    phases,
    recommendations,
    report,
    themes,
    votes,
    workshops,
)
from models.access import Identity
from models.errors import DomainError
from models.recommendations import RecommendationInput
from models.schema import Phase, RecommendationStatus, Role, Workshop
from tests.factories import add_issue, group_identity, make_workshop

REFERENCE = Path(__file__).resolve().parent / "data" / "report_page1.png"
RENDER_SCALE = 1.5  # 108 dpi: tone marks are several pixels tall
FIXED_TIME = dt.datetime(2018, 3, 16, 16, 30, tzinfo=dt.UTC)
STAFF = "facilitator"
PLAIN_TEXT = "ครูไม่พอ <b>ด่วน</b> **มาก** [ลิงก์](http://x)"
TONES = "\u0e48\u0e49\u0e4a\u0e4b"
UPPER_VOWELS = "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e47"


# --- a deterministic workshop: the demo plus fixed themes, votes, scores, recommendations ---


def _by_statement(engine: Engine, workshop_id: int) -> dict[str, int]:
    found = issues.workshop_issues(engine, workshop_id)
    return {i.statement: i.id for i in found}  # type: ignore[misc]


def build_results(engine: Engine) -> Workshop:
    """The 2018 demo carried through to the plenary, identically every time."""
    workshop = demo.load_demo(engine)
    wid: int = workshop.id  # type: ignore[assignment]
    spec = demo.read_definition()["issues"]
    ids = _by_statement(engine, wid)

    def issue(n: int) -> int:
        return ids[spec[n]["statement"]]

    group = {g: n for n, g in enumerate(spec_groups())}
    remote = Identity(Role.GROUP, wid, _group_id(engine, wid, spec[15]["group"]))
    issues.delete_issue(engine, identity=remote, issue_id=issue(15))
    add_issue(engine, workshop, group=group["เขตตรวจราชการที่ 6"], statement=PLAIN_TEXT, domain=3)
    themes.hide_issues(
        engine, actor=STAFF, workshop_id=wid, issue_ids=[issue(3)], reason="ซ้ำกับประเด็นอื่น"
    )
    plan = [
        ("ครูขาดแคลนและย้ายบ่อย", "ครูไม่ครบชั้น ไม่ตรงวิชาเอก และย้ายออกจากพื้นที่ห่างไกล", [1, 8, 10]),
        ("งบประมาณล่าช้าและไม่ยืดหยุ่น", "", [4, 5, 6, 7]),
        ("บทบาทซ้ำซ้อนระหว่าง CLUSTER เขตพื้นที่ และศึกษาธิการจังหวัด", "", [9, 13]),
        ("ภาระงานเอกสารและการสั่งการซ้ำซ้อน", "", [2, 11, 12, 14]),
    ]
    made = [
        themes.create_theme(
            engine,
            actor=STAFF,
            workshop_id=wid,
            title=title,
            description=description,
            issue_ids=[issue(n) for n in members],
        )
        for title, description, members in plan
    ]
    teacher, budget, roles, paperwork = (t.id for t in made)
    phases.set_phase(engine, actor=STAFF, workshop_id=wid, phase=Phase.VOTE)
    ballots = {
        0: {teacher: 3, budget: 2},
        1: {teacher: 2, roles: 3},
        2: {budget: 3, paperwork: 2},
        3: {paperwork: 3, teacher: 2},
        4: {roles: 2, budget: 2},
        5: {teacher: 3},
    }
    for index, ballot in ballots.items():
        for theme_id, count in ballot.items():
            votes.cast_votes(
                engine,
                identity=group_identity(engine, workshop, index),
                theme_id=theme_id,  # type: ignore[arg-type]
                count=count,
            )
    staff = Identity(Role.FACILITATOR, wid)
    for theme_id, (impact, feasibility) in {
        teacher: (5, 3),
        budget: (4, 2),
        paperwork: (3, 4),
    }.items():
        votes.set_score(
            engine,
            identity=staff,
            theme_id=theme_id,
            impact=impact,
            feasibility=feasibility,  # type: ignore[arg-type]
        )
    phases.set_phase(engine, actor=STAFF, workshop_id=wid, phase=Phase.RECOMMEND)
    accepted = [
        (teacher, "central", "ทบทวนเกณฑ์อัตรากำลังครูสำหรับโรงเรียนขนาดเล็กและพื้นที่ห่างไกล",
         "สำนักพัฒนานโยบายบริหารงานบุคคล สพฐ.", "ปีงบประมาณ 2562", 1),
        (teacher, "area", "จัดครูหมุนเวียนช่วยสอนวิชาที่ขาดแคลนภายในเครือข่ายโรงเรียน",
         "ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษา", "ภาคเรียนที่ 1/2561", 1),
        (budget, "central", "ปรับปฏิทินการจัดสรรงบประมาณให้ถึงสถานศึกษาภายในไตรมาสแรก",
         "สำนักนโยบายและแผนการศึกษาขั้นพื้นฐาน", "ปีงบประมาณ 2562", 1),
        (budget, "cluster", "ตั้งงบประมาณกลางสำหรับการบริหารงานของ CLUSTER",
         "คณะกรรมการ CLUSTER", "ปีงบประมาณ 2562", 2),
        (roles, "cluster", "จัดทำคู่มือแบ่งบทบาทหน้าที่ที่ผู้ใหญ่ทุกระดับใช้ร่วมกัน",
         "ผู้ตรวจราชการประจำเขต", "ภายใน 3 เดือน", 1),
        (paperwork, "school", "ลดการขอข้อมูลซ้ำ ใช้ข้อมูลจากระบบ DMC เป็นหลัก",
         "ผู้อำนวยการสถานศึกษา", "ทันที", 2),
    ]  # fmt: skip
    for theme_id, level, text, owner, timeframe, priority in accepted:
        recommendations.add_recommendation(
            engine,
            identity=staff,
            theme_id=theme_id,  # type: ignore[arg-type]
            data=RecommendationInput(
                level=level, text=text, owner=owner, timeframe=timeframe, priority=priority
            ),
        )
    rejected = recommendations.add_recommendation(
        engine,
        identity=staff,
        theme_id=budget,  # type: ignore[arg-type]
        data=RecommendationInput(level="school", text="ข้อเสนอที่ไม่เห็นชอบ"),
    )
    recommendations.set_status(
        engine,
        identity=staff,
        recommendation_id=rejected.id,  # type: ignore[arg-type]
        status=RecommendationStatus.REJECTED,
    )
    recommendations.add_recommendation(
        engine,
        identity=group_identity(engine, workshop, 0),
        theme_id=teacher,  # type: ignore[arg-type]
        data=RecommendationInput(level="school", text="ข้อเสนอที่ยังรอพิจารณา"),
    )
    phases.set_phase(engine, actor=STAFF, workshop_id=wid, phase=Phase.PRESENT)
    return workshop


def spec_groups() -> list[str]:
    return list(demo.read_definition()["groups"])


def _group_id(engine: Engine, workshop_id: int, name: str) -> int:
    return next(g.id for g in workshops.list_groups(engine, workshop_id) if g.name == name)  # type: ignore[misc]


def render_page1(pdf: bytes) -> Image.Image:
    document = pdfium.PdfDocument(pdf)
    try:
        return document[0].render(scale=RENDER_SCALE).to_pil().convert("L")
    finally:
        document.close()


# --- fixtures: one demo database and one Chrome start for the whole module --------------------


@pytest.fixture(scope="module")
def demo_engine(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("report") / "report.db"
    shutil.copyfile(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    build_results(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def workshop_id(demo_engine: Engine) -> int:
    return workshops.list_workshops(demo_engine)[0].id  # type: ignore[return-value]


@pytest.fixture(scope="module")
def data_th(demo_engine: Engine, workshop_id: int) -> report.ReportData:
    found = report.collect(demo_engine, workshop_id, "th")
    return dataclasses.replace(found, generated_at=FIXED_TIME)


@pytest.fixture(scope="module")
def images(demo_engine: Engine, workshop_id: int) -> dict[str, bytes]:
    return report.chart_images(demo_engine, workshop_id, "th")


@pytest.fixture(scope="module")
def docx_file(data_th: report.ReportData, images: dict[str, bytes]) -> Any:
    return Document(io.BytesIO(report.to_docx(data_th, images)))


@pytest.fixture(scope="module")
def pdf_bytes(data_th: report.ReportData, images: dict[str, bytes]) -> bytes:
    return report.to_pdf(data_th, images)


# --- Thai line breaking -------------------------------------------------------------------------

SENTENCES = [
    "การนิเทศติดตามการจัดการเรียนการสอนไม่ต่อเนื่อง ศึกษานิเทศก์มีไม่เพียงพอต่อจำนวนโรงเรียน",
    "ผลการทดสอบระดับชาติ (O-NET) ต่ำกว่าค่าเฉลี่ยในวิชาคณิตศาสตร์และภาษาอังกฤษ",
    "Cluster meetings are held far from remote provinces; travel takes a whole day",
    "บทบาทอำนาจหน้าที่ของ กศจ. และ อกศจ. ทับซ้อนกับ อ.ก.ค.ศ. เขตพื้นที่เดิม",
]


@pytest.mark.parametrize("text", SENTENCES)
@pytest.mark.parametrize("width", [8, 14, 25, 60])
def test_wrap_breaks_only_between_words(text: str, width: int) -> None:
    pieces = report.words(text)
    assert "".join(pieces) == text
    spans, at = [], 0
    for piece in pieces:
        spans.append((at, at + len(piece)))
        at += len(piece)
    lines = report.wrap(text, width, len)
    position = 0
    for line in lines:
        assert line and line == line.strip() and len(line) <= width
        start = text.index(line, position)
        assert text[position:start].strip() == ""  # only spaces are dropped at a break
        position = start + len(line)
        if position < len(text):  # a break: between two words, or inside an over-long one
            inside = [end - begin for begin, end in spans if begin < position < end]
            assert not inside or inside[0] > width, (line, inside)
    assert position == len(text)


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("ครูไม่พอ\nงบล่าช้า", 40, ["ครูไม่พอ", "งบล่าช้า"]),  # newlines are kept
        ("", 10, [""]),
        ("ระดับชาติ (O-NET) ต่ำ", 12, ["ระดับชาติ", "(O-NET) ต่ำ"]),  # no break inside "(O-"
        ("เรียนไปเรื่อย ๆ ทุกวัน", 14, ["เรียนไป", "เรื่อย ๆ", "ทุกวัน"]),  # ๆ never starts one
    ],
)
def test_wrap_examples(text: str, width: int, expected: list[str]) -> None:
    assert report.wrap(text, width, len) == expected


def test_an_over_long_word_is_cut_between_clusters() -> None:
    lines = report.wrap("ศึกษานิเทศก์", 4, len)
    assert "".join(lines) == "ศึกษานิเทศก์"
    marks = re.compile(r"^[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")
    assert len(lines) > 2 and not any(marks.match(line) for line in lines)


# --- the data ---------------------------------------------------------------------------------


def test_collect_follows_the_workshop(engine) -> None:
    workshop = make_workshop(engine, groups=3)
    kept = add_issue(engine, workshop, group=0, statement="ครูขาดแคลน", domain=0)
    add_issue(engine, workshop, group=1, statement="ครูย้ายบ่อย", domain=0)
    loose = add_issue(engine, workshop, group=1, statement="งบประมาณล่าช้า", domain=1)
    hidden = add_issue(engine, workshop, group=0, statement="ข้อความไม่เหมาะสม", domain=1)
    gone = add_issue(engine, workshop, group=2, statement="ลบแล้ว", domain=1)
    issues.delete_issue(engine, identity=group_identity(engine, workshop, 2), issue_id=gone.id)
    themes.hide_issues(
        engine, actor=STAFF, workshop_id=workshop.id, issue_ids=[hidden.id], reason="ไม่เหมาะสม"
    )
    theme = themes.create_theme(
        engine,
        actor=STAFF,
        workshop_id=workshop.id,
        title="ครู",
        issue_ids=[kept.id, kept.id + 1],
    )
    phases.set_phase(engine, actor=STAFF, workshop_id=workshop.id, phase=Phase.RECOMMEND)
    staff = Identity(Role.FACILITATOR, workshop.id)
    for level in ("school", "central", "cluster"):
        recommendations.add_recommendation(
            engine,
            identity=staff,
            theme_id=theme.id,
            data=RecommendationInput(level=level, text=f"ทำ {level}"),
        )
    recommendations.add_recommendation(
        engine,
        identity=group_identity(engine, workshop, 0),
        theme_id=theme.id,
        data=RecommendationInput(level="area", text="ยังรอ"),
    )

    found = report.collect(engine, workshop.id, "th")

    assert (found.title, found.dates) == ("การประชุมทดสอบ", "14–16 มีนาคม 2561")
    assert (found.issue_count, found.groups_active, found.group_total) == (4, 2, 3)
    assert found.by_domain == (("วิชาการ", 2), ("งบประมาณ", 2))
    (only,) = found.themes
    assert (only.rank, only.title, only.group_count, only.group_total) == (1, "ครู", 2, 3)
    assert only.raised_by == ("กลุ่ม 1", "กลุ่ม 2")
    assert [i.statement for i in only.issues] == ["ครูขาดแคลน", "ครูย้ายบ่อย"]
    assert [s.level for s in found.recommendations] == ["central", "cluster", "area", "school"]
    assert [[i.text for i in s.items] for s in found.recommendations] == [
        ["ทำ central"],
        ["ทำ cluster"],
        [],  # the group's proposal is not accepted yet
        ["ทำ school"],
    ]
    first, second, third = found.appendix
    assert [(d.domain, [i.statement for i in d.issues]) for d in first.domains] == [
        ("วิชาการ", ["ครูขาดแคลน"]),
        ("งบประมาณ", ["ข้อความไม่เหมาะสม"]),
    ]
    assert first.domains[1].issues[0].hidden_reason == "ไม่เหมาะสม"
    assert [i.theme for d in second.domains for i in d.issues] == ["ครู", None]  # ungrouped
    assert third.domains == () and third.issue_count == 0  # its only issue was deleted
    assert loose.statement in {i.statement for d in second.domains for i in d.issues}


def test_collect_in_english(demo_engine: Engine, workshop_id: int) -> None:
    found = report.collect(demo_engine, workshop_id, "en")
    assert found.dates == "14–16 March 2018"
    assert found.recommendations[0].label == "Central (OBEC)"
    assert found.by_domain[0][0] == "Academic affairs"


def test_demo_report_numbers(data_th: report.ReportData) -> None:
    assert data_th.issue_count == 16  # 16 demo issues, one deleted, one added
    assert (data_th.groups_active, data_th.group_total) == (16, 20)
    assert (data_th.theme_count, data_th.votes_cast) == (4, 27)
    assert [t.votes for t in data_th.themes] == [10, 7, 5, 5]
    assert data_th.themes[2].title == "ภาระงานเอกสารและการสั่งการซ้ำซ้อน"  # more groups
    assert data_th.themes[3].impact is None


# --- DOCX ---------------------------------------------------------------------------------------


def _blocks(document: Any) -> list[Paragraph | Table]:
    return list(document.iter_inner_content())


def _all_runs(document: Any) -> Iterator[Any]:
    for paragraph in document.paragraphs:
        yield from paragraph.runs
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    yield from paragraph.runs


def test_docx_title_block_and_headings(docx_file: Any, data_th: report.ReportData) -> None:
    texts = [p.text for p in docx_file.paragraphs]
    assert texts[0] == "รายงานผลการประชุม"
    assert texts[1] == data_th.title
    assert texts[2] == "ระหว่างวันที่ 14–16 มีนาคม 2561"
    assert texts[3] == "ณ โรงแรมรอแยล รัตนโกสินทร์ กรุงเทพมหานคร"
    headings = [
        (p.style.name, p.text) for p in docx_file.paragraphs if p.style.name.startswith("Heading")
    ]
    assert [text for style, text in headings if style == "Heading 1"] == [
        "1. สรุปภาพรวม",
        "2. แผนภูมิสรุปผล",
        "3. ประเด็นหลักเรียงตามลำดับความสำคัญ",
        "4. ข้อเสนอแนะจำแนกตามระดับ",
        "ภาคผนวก ประเด็นปัญหาจำแนกตามกลุ่ม",
    ]
    assert ("Heading 2", "อันดับที่ 1 ครูขาดแคลนและย้ายบ่อย") in headings
    assert ("Heading 2", "เขตตรวจราชการที่ 6 (1 ประเด็น)") in headings


def test_docx_theme_lists_its_issues(docx_file: Any) -> None:
    texts = [p.text for p in docx_file.paragraphs]
    start = texts.index("อันดับที่ 1 ครูขาดแคลนและย้ายบ่อย")
    end = texts.index("อันดับที่ 2 งบประมาณล่าช้าและไม่ยืดหยุ่น")
    section = texts[start:end]
    assert section[1].startswith("คะแนนเสียง 10 คะแนน | เสนอโดย 3 จาก 20 กลุ่ม")
    bullets = [p.text for p in docx_file.paragraphs[start:end] if p.style.name == "List Bullet"]
    assert bullets[0] == (
        "ครูย้ายบ่อย โดยเฉพาะโรงเรียนในพื้นที่ห่างไกล ทำให้ขาดความต่อเนื่อง (เขตตรวจราชการที่ 2)"
    )
    assert len(bullets) == 3
    assert section[-1] == (
        "กลุ่มที่เสนอ 3 จาก 20 กลุ่ม ได้แก่ เขตตรวจราชการที่ 2, เขตตรวจราชการที่ 5, เขตตรวจราชการที่ 17"
    )


def test_docx_recommendations_sit_under_their_level(docx_file: Any) -> None:
    current, found = None, {}
    levels = {"ส่วนกลาง (สพฐ.)", "เขตตรวจราชการ (CLUSTER)", "สำนักงานเขตพื้นที่การศึกษา", "สถานศึกษา"}
    for block in _blocks(docx_file):
        if isinstance(block, Paragraph) and block.style.name == "Heading 2":
            current = block.text if block.text in levels else None
        elif isinstance(block, Table) and current:
            found[current] = [[c.text for c in row.cells] for row in block.rows[1:]]
    assert list(found) == [
        "ส่วนกลาง (สพฐ.)",
        "เขตตรวจราชการ (CLUSTER)",
        "สำนักงานเขตพื้นที่การศึกษา",
        "สถานศึกษา",
    ]
    assert found["ส่วนกลาง (สพฐ.)"] == [
        [
            "1. ครูขาดแคลนและย้ายบ่อย",
            "ทบทวนเกณฑ์อัตรากำลังครูสำหรับโรงเรียนขนาดเล็กและพื้นที่ห่างไกล",
            "สำนักพัฒนานโยบายบริหารงานบุคคล สพฐ.",
            "ปีงบประมาณ 2562",
            "สูง",
        ],
        [
            "2. งบประมาณล่าช้าและไม่ยืดหยุ่น",
            "ปรับปฏิทินการจัดสรรงบประมาณให้ถึงสถานศึกษาภายในไตรมาสแรก",
            "สำนักนโยบายและแผนการศึกษาขั้นพื้นฐาน",
            "ปีงบประมาณ 2562",
            "สูง",
        ],
    ]
    assert [row[1] for row in found["สถานศึกษา"]] == ["ลดการขอข้อมูลซ้ำ ใช้ข้อมูลจากระบบ DMC เป็นหลัก"]
    every = " ".join(cell for rows in found.values() for row in rows for cell in row)
    assert "ข้อเสนอที่ไม่เห็นชอบ" not in every and "ข้อเสนอที่ยังรอพิจารณา" not in every


def test_docx_fonts_cover_thai(docx_file: Any) -> None:
    runs = [run for run in _all_runs(docx_file) if run.text]
    assert len(runs) > 100
    for run in runs:
        fonts_element = run._r.rPr.rFonts
        assert fonts_element.get(qn("w:cs")) == "TH Sarabun New", run.text
        assert fonts_element.get(qn("w:ascii")) == "TH Sarabun New"
        assert run._r.rPr.find(qn("w:szCs")) is not None
    body = docx_file.styles["Normal"].element.rPr
    assert body.rFonts.get(qn("w:cs")) == "TH Sarabun New"
    assert body.find(qn("w:szCs")).get(qn("w:val")) == "32"  # 16 pt
    section = docx_file.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)


def test_docx_embeds_the_charts_and_keeps_text_plain(
    docx_file: Any, images: dict[str, bytes]
) -> None:
    assert set(images) == set(report.CHARTS)
    assert len(docx_file.inline_shapes) == len(images)
    texts = [p.text for p in docx_file.paragraphs]
    assert any(text == PLAIN_TEXT for text in texts)
    assert "ภาพที่ 1 จำนวนประเด็นแยกตามด้าน" in texts
    assert "[ซ่อนโดยผู้ดำเนินการประชุม: ซ้ำกับประเด็นอื่น]" in texts


def _top_three_domains(report_data: report.ReportData) -> list[str]:
    ranked = sorted(report_data.by_domain, key=lambda item: -item[1])
    return [f"{name} ({count}" for name, count in ranked[:3]]


def test_docx_charts_carry_alt_text_and_a_summary(
    docx_file: Any, data_th: report.ReportData
) -> None:
    """Word's alt text (the picture's descr) names each chart and its top three values."""
    said = [shape._inline.docPr.get("descr") for shape in docx_file.inline_shapes]
    assert said == [data_th.charts[key].alt_text for key in report.CHARTS]
    assert said[0].startswith("จำนวนประเด็นแยกตามด้าน. มากที่สุด: ")
    positions = [said[0].index(name) for name in _top_three_domains(data_th)]
    assert positions == sorted(positions)  # most first
    assert "คะแนนเสียงสูงสุด: 1. " in said[2] and "อันดับต้น: 1. " in said[3]
    texts = [p.text for p in docx_file.paragraphs]
    assert data_th.charts["heatmap"].summary in texts  # printed under its caption too


# --- PDF ------------------------------------------------------------------------------------------


def _pdf_text(pdf: bytes) -> str:
    """The PDF's text, NFKC (SARA AM is written as two glyphs), without line breaks."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = "".join(page.extract_text() for page in pages)
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def test_pdf_text_can_be_extracted(pdf_bytes: bytes, data_th: report.ReportData) -> None:
    assert pdf_bytes.startswith(b"%PDF")
    text = _pdf_text(pdf_bytes)
    for fragment in (
        "รายงานผลการประชุม",
        data_th.title,
        "ระหว่างวันที่ 14–16 มีนาคม 2561",
        "ณ โรงแรมรอแยล รัตนโกสินทร์ กรุงเทพมหานคร",
        "การนิเทศติดตามการจัดการเรียนการสอนไม่ต่อเนื่อง ศึกษานิเทศก์มีไม่เพียงพอต่อจำนวนโรงเรียน",
        "จัดทำคู่มือแบ่งบทบาทหน้าที่ที่ผู้ใหญ่ทุกระดับใช้ร่วมกัน",
        PLAIN_TEXT,
        "หน้า 1",
        "อันดับที่ 1 ครูขาดแคลนและย้ายบ่อย",
    ):
        assert _squash(fragment) in text, fragment
    assert "ข้อเสนอที่ยังรอพิจารณา" not in text
    assert not re.search(r"[\x00-\x1f]", text)  # no glyph left without its characters


def test_pdf_pages_images_and_outline(pdf_bytes: bytes, images: dict[str, bytes]) -> None:
    document = pdfium.PdfDocument(pdf_bytes)
    try:
        assert 6 <= len(document) <= 20
        width, height = document[0].get_size()
        assert (round(width), round(height)) == (595, 842)  # A4 in points
        pictures = sum(
            len(list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))) for page in document
        )
        assert pictures == len(images)
        outline = [item.get_title() for item in document.get_toc()]
        assert "1. สรุปภาพรวม" in outline
    finally:
        document.close()


def test_pdf_charts_carry_alt_text(pdf_bytes: bytes, data_th: report.ReportData) -> None:
    """Each image is a tagged /Figure whose /Alt is the chart's summary (screen readers)."""
    root = PdfReader(io.BytesIO(pdf_bytes)).trailer["/Root"]
    found: list[str] = []

    def walk(node: Any) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, dict):
            if node.get("/S") == "/Figure":
                found.append(str(node["/Alt"]))
            walk(node.get("/K"))
        elif isinstance(node, list):
            for kid in node:
                walk(kid)

    walk(root["/StructTreeRoot"])
    assert found == [data_th.charts[key].alt_text for key in report.CHARTS]
    assert all(name in found[0] for name in _top_three_domains(data_th))
    assert _squash(data_th.charts["by_domain"].summary) in _pdf_text(pdf_bytes)


def test_pdf_is_reproducible(data_th: report.ReportData) -> None:
    assert report.to_pdf(data_th) == report.to_pdf(data_th)


def test_pdf_first_page_matches_reference(data_th: report.ReportData) -> None:
    assert REFERENCE.exists(), "tests/data/report_page1.png is missing (see module docstring)"
    page = render_page1(report.to_pdf(data_th))
    expected = Image.open(REFERENCE).convert("L")
    assert page.size == expected.size
    difference = np.abs(np.asarray(page, dtype=float) - np.asarray(expected, dtype=float))
    assert difference.mean() < 1.5, f"mean pixel difference {difference.mean():.2f}"


def _mark_collisions(pdf: bytes, page_index: int = 0) -> tuple[int, int]:
    """(pairs of a tone mark over an upper vowel, how many of them overlap) on a page.

    With shaping, a tone mark above ี/ื/ั sits higher than the vowel; drawn unshaped it
    lands on the vowel.
    """
    document = pdfium.PdfDocument(pdf)
    try:
        text_page = document[page_index].get_textpage()
        boxes: dict[str, list[tuple[float, float, float, float]]] = {"tone": [], "vowel": []}
        for index in range(text_page.count_chars()):
            char = text_page.get_text_range(index, 1)
            if char and char in TONES:
                boxes["tone"].append(text_page.get_charbox(index))
            elif char and char in UPPER_VOWELS:
                boxes["vowel"].append(text_page.get_charbox(index))
    finally:
        document.close()
    pairs = overlaps = 0
    for left, bottom, right, _ in boxes["tone"]:
        for v_left, v_bottom, v_right, v_top in boxes["vowel"]:
            shared = min(right, v_right) - max(left, v_left)
            if shared <= 0.5 * (right - left) or abs(bottom - v_bottom) > 15:
                continue  # not the same cluster
            pairs += 1
            overlaps += bottom < v_top - 0.5
    return pairs, overlaps


def test_pdf_places_tone_marks_above_vowels(data_th: report.ReportData) -> None:
    pairs, overlaps = _mark_collisions(report.to_pdf(data_th))
    assert pairs >= 3 and overlaps == 0

    # The check notices text drawn without shaping (the same words, same font).
    plain = FPDF(format="A4")
    plain.add_font("Sarabun", "", str(fonts.font_path(400)))
    plain.add_page()
    plain.set_font("Sarabun", size=14)
    plain.cell(text="ที่ พื้นฐาน เพื่อ ผู้ใหญ่ ปี่")
    pairs, overlaps = _mark_collisions(bytes(plain.output()))
    assert pairs >= 3 and overlaps == pairs


# --- charts and the whole export ---------------------------------------------------------------


def test_missing_chrome_is_a_domain_error(
    demo_engine: Engine, workshop_id: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chrome-here"))
    renderer = report.ChartRenderer(timeout=20)
    with pytest.raises(DomainError) as caught:
        report.chart_images(demo_engine, workshop_id, "th", renderer=renderer)
    assert caught.value.key == "error.report.charts"


@pytest.mark.parametrize("fmt", report.FORMATS)
def test_export_without_charts_reports_progress(
    demo_engine: Engine, workshop_id: int, fmt: str
) -> None:
    seen: list[tuple[float, str]] = []
    data = report.export(
        demo_engine, workshop_id, "th", fmt, charts=False, progress=lambda f, m: seen.append((f, m))
    )
    assert data[:4] == (b"%PDF" if fmt == "pdf" else b"PK\x03\x04")
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert seen[-1][1] == "จัดทำรายงานเสร็จแล้ว"


def test_export_refuses_an_unknown_format(demo_engine: Engine, workshop_id: int) -> None:
    with pytest.raises(DomainError) as caught:
        report.export(demo_engine, workshop_id, "th", "odt")
    assert caught.value.key == "error.report.format"


if __name__ == "__main__":  # a new reference candidate, to be looked at before use
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{folder}/report.db")
        db.migrate(engine)
        built = build_results(engine)
        found = dataclasses.replace(
            report.collect(engine, built.id, "th"),  # type: ignore[arg-type]
            generated_at=FIXED_TIME,
        )
        target = REFERENCE.with_suffix(".new.png")
        render_page1(report.to_pdf(found)).save(target, optimize=True)
        engine.dispose()
        print(f"wrote {target}")
