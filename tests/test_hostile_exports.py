"""Every export built from the whole hostile corpus in every text field, and read back.

The corpus is tests/data/hostile/strings.json; each case that the app stores goes into
every field a file carries (problem statement, cause, theme title and description,
recommendation text and owner, group name, workshop title), plus the statements of
issue #12 that once stopped the PDF. Each file is then read by a real reader and must
hold every stored text (spreadsheet formulas neutralised as they always are).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from docx import Document
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from sqlalchemy.engine import Engine

from models import exports, fonts, phases, recommendations, report, themes, votes, workshops
from models.access import Identity
from models.errors import DomainError
from models.schema import Phase, Role, Workshop
from models.text import neutralize_formula
from models.xmltext import xml_safe
from tests.factories import add_issue, group_identity, make_workshop
from tests.test_hostile import STORED

pytestmark = pytest.mark.sqlite_only(
    "turning stored rows into files is the same on both backends; the database side of"
    " every field is covered on each backend by tests/test_hostile.py"
)

STAFF = Identity(Role.FACILITATOR)
ISSUE_12 = [
    "ดูรายละเอียดที่ https://example.org/" + "a" * 120 + " .",
    "ดูรายละเอียดที่ https://example.org/" + "a" * 120 + " :",
    "ดูรายละเอียดที่ https://example.org/" + "a" * 120 + " )",
    "ครูไม่พอ :red[R]",
    '<span style="color:red">แดง</span> <a href="https://example.org/">ลิงก์</a>',
]
TEXTS = [case.value for case in STORED] + ISSUE_12


def _try(send: Any) -> Any:
    """A field refuses what its own rules forbid (a newline in a name, a length): skip it."""
    try:
        return send()
    except DomainError:
        return None


def _unneutral(cell: str) -> str:
    """A spreadsheet cell as typed: exports put "'" before what a spreadsheet would run."""
    return cell[1:] if cell.startswith("'") and neutralize_formula(cell[1:]) == cell else cell


def _squash(text: str) -> str:
    """Text compared across formats: NFKC (the PDF splits SARA AM), no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture
def hostile(engine: Engine) -> Iterator[tuple[Workshop, dict[str, list[str]]]]:
    """A workshop with every corpus case in every field; yields what each field stored."""
    ws = make_workshop(engine, groups=2)
    wid: int = ws.id  # type: ignore[assignment]
    phases.set_phase(engine, actor="t", workshop_id=wid, phase=Phase.SETUP)
    stored: dict[str, list[str]] = {k: [] for k in ("group", "statement", "cause", "theme", "rec")}
    for text in TEXTS:
        group = _try(lambda t=text: workshops.add_group(engine, actor="t", workshop_id=wid, name=t))
        if group is not None:
            stored["group"].append(group.name)
    phases.set_phase(engine, actor="t", workshop_id=wid, phase=Phase.COLLECT)
    groups = len(workshops.list_groups(engine, wid))
    made = []
    for n, text in enumerate(TEXTS):
        issue = add_issue(engine, ws, group=n % groups, domain=n % 2, statement=text, cause=text)
        stored["statement"].append(issue.statement)
        stored["cause"].append(issue.cause)
        made.append(issue.id)
    phases.set_phase(engine, actor="t", workshop_id=wid, phase=Phase.GROUP)
    theme_ids = []
    for n, text in enumerate(TEXTS):
        theme = _try(
            lambda t=text, n=n: themes.create_theme(
                engine, actor="t", workshop_id=wid, title=t, issue_ids=[made[n]]
            )
        )
        if theme is not None:
            stored["theme"].append(theme.title)
            theme_ids.append(theme.id)
            themes.update_theme(
                engine,
                actor="t",
                workshop_id=wid,
                theme_id=theme.id,
                title=theme.title,
                description=text,
            )
    phases.set_phase(engine, actor="t", workshop_id=wid, phase=Phase.VOTE)
    for n, theme_id in enumerate(theme_ids[:6]):
        _try(
            lambda n=n, theme_id=theme_id: votes.cast_votes(
                engine, identity=group_identity(engine, ws, n % groups), theme_id=theme_id, count=1
            )
        )
        votes.set_score(
            engine, identity=STAFF, theme_id=theme_id, impact=1 + n % 5, feasibility=1 + n % 3
        )
    phases.set_phase(engine, actor="t", workshop_id=wid, phase=Phase.RECOMMEND)
    for n, text in enumerate(TEXTS):
        data = recommendations.RecommendationInput(
            level=("school", "area", "cluster", "central")[n % 4], text=text, owner=text
        )
        rec = _try(
            lambda d=data, n=n: recommendations.add_recommendation(
                engine, identity=STAFF, theme_id=theme_ids[n % len(theme_ids)], data=d
            )
        )
        if rec is None:  # the owner is a single line: keep the text anyway
            data = recommendations.RecommendationInput(level="school", text=text, owner="สพฐ.")
            rec = recommendations.add_recommendation(
                engine, identity=STAFF, theme_id=theme_ids[0], data=data
            )
        stored["rec"].append(rec.text)
    phases.set_phase(engine, actor="t", workshop_id=wid, phase=Phase.PRESENT)
    yield workshops.get_workshop(engine, workshop_id=wid), stored


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _expected(stored: dict[str, list[str]], *fields: str) -> set[str]:
    return {text for field in fields for text in stored[field] if text}


def _covers(found: set[str], wanted: set[str], fmt: str) -> None:
    missing = [text for text in wanted if text not in found]
    assert not missing, f"{fmt}: {len(missing)} texts missing, e.g. {missing[0]!r:.80}"


def _in_text(text: str, wanted: set[str], fmt: str, keep: Any = None) -> None:
    whole = _squash(text)
    missing = [w for w in wanted if _squash(keep(w) if keep else w) not in whole]
    assert not missing, f"{fmt}: {len(missing)} texts missing: {missing!r:.300}"


@functools.cache
def _sarabun() -> frozenset[int]:
    return frozenset(TTFont(fonts.font_path(400)).getBestCmap())


def _drawable(text: str) -> str:
    """What the PDF holds as text: characters Sarabun has a glyph for, less invisible and
    combining ones outside Thai (zero-width spaces, direction marks, emoji variation
    selectors and keycaps), which shaping may draw as nothing or as part of a neighbour."""
    return "".join(
        c
        for c in text
        if c.isspace()
        or (
            ord(c) in _sarabun()
            and unicodedata.category(c) not in ("Cf", "Me", "So")
            and not (unicodedata.category(c) == "Mn" and not "\u0e00" <= c <= "\u0e7f")
        )
    )


def test_every_export_of_the_hostile_corpus_reads_back(engine: Engine, hostile: Any) -> None:
    ws, stored = hostile
    built = {
        fmt: spec.build(engine, ws, "th")
        for fmt, spec in exports.FORMATS.items()
        if fmt not in exports.SLOW_FORMATS
    }
    # The reports as report.export builds them, with the charts drawn once for both
    # (Chrome is most of their time; test_exports.py runs each format's own builder).
    data = report.collect(engine, ws.id, "th")  # type: ignore[arg-type]
    images = report.chart_images(engine, ws.id, "th")  # type: ignore[arg-type]
    assert set(images) == set(report.CHARTS)
    built["docx"] = report.to_docx(data, images)
    built["pdf"] = report.to_pdf(data, images)
    assert set(built) == set(exports.FORMATS)
    every = _expected(stored, "group", "statement", "cause", "theme", "rec")

    rows = list(csv.DictReader(io.StringIO(built["csv"].decode("utf-8-sig"))))
    _covers(
        {_unneutral(r[k]) for r in rows for k in r},
        _expected(stored, "statement", "cause", "group"),
        "csv",
    )

    archive = zipfile.ZipFile(io.BytesIO(built["zip"]))
    cells = {
        _unneutral(cell)
        for name in archive.namelist()
        for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig")))
        for cell in row
    }
    _covers(cells, every, "zip")

    book = openpyxl.load_workbook(io.BytesIO(built["xlsx"]))
    cells = {
        _unneutral(str(cell.value))
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }
    _covers(cells, {xml_safe(text) for text in every}, "xlsx")

    _covers(set(_strings(json.loads(built["json"]))), every | {ws.title}, "json")

    document = Document(io.BytesIO(built["docx"]))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    _in_text("\n".join(parts), every, "docx", keep=xml_safe)
    assert len(document.inline_shapes) == len(report.CHARTS)  # every chart drawn

    pdf = PdfReader(io.BytesIO(built["pdf"]))
    text = _drawable("\n".join(page.extract_text() for page in pdf.pages))
    _in_text(text, every, "pdf", keep=_drawable)
    assert sum(len(page.images) for page in pdf.pages) == len(report.CHARTS)
