"""Printable join cards: an A4 PDF read back as text, with every QR code decoded."""

from __future__ import annotations

import io
import math
import re
import unicodedata
from pathlib import Path

import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from models import cards, cli, db, demo, workshops
from models.access import Identity
from models.schema import Role
from tests.factories import make_workshop

pytestmark = pytest.mark.sqlite_only("a PDF of rows read once: the same on both backends")
BASE = "http://192.168.1.20:8501"
A4_PT = (595, 842)
APP = Path(__file__).resolve().parent.parent / "app.py"


def _squash(text: str) -> str:
    """As the PDF's text layer holds it: NFKC (SARA AM drawn as two glyphs), no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _read(data: bytes) -> tuple[PdfReader, str, list[str]]:
    """The PDF, its text, and what each of its images decodes to as a QR code."""
    pdf = PdfReader(io.BytesIO(data))
    text = _squash("".join(page.extract_text() for page in pdf.pages))
    decoded = []
    for page in pdf.pages:
        for image in page.images:
            found = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)).convert("L"))
            decoded += [code.text for code in found]
    return pdf, text, decoded


def test_one_card_per_group_with_name_link_and_a_scannable_code(engine: Engine) -> None:
    workshop = demo.load_demo(engine)  # 20 regional groups with Thai names
    made = cards.workshop_cards(engine, workshop, base=BASE)
    pdf, text, decoded = _read(cards.cards_pdf(made, title=workshop.title, lang="th"))
    groups = workshops.list_groups(engine, workshop.id)  # type: ignore[arg-type]
    assert [c.name for c in made] == [g.name for g in groups] and len(made) == 20
    assert len(pdf.pages) == math.ceil(20 / (cards.COLUMNS * cards.ROWS))
    assert all(tuple(round(v) for v in page.mediabox[2:]) == A4_PT for page in pdf.pages)
    for group in groups:
        link = f"{BASE}/?join={group.join_code}"
        assert _squash(group.name) in text and link in text, group.name
    assert sorted(decoded) == sorted(f"{BASE}/?join={g.join_code}" for g in groups)


def test_long_and_hostile_names_stay_on_their_card(engine: Engine) -> None:
    """A 200-character name is set smaller, never cut; markup is printed as typed."""
    workshop = make_workshop(engine, groups=1)
    names = [
        "กลุ่มโรงเรียนในพื้นที่สูงและทุรกันดาร" * 5 + "จบ",
        '<span style="color:red">แดง</span> :red[R] ก่ำ',
    ]
    made = [cards.Card(name, f"{BASE}/?join=C{n}", f"C{n}") for n, name in enumerate(names)]
    pdf, text, decoded = _read(cards.cards_pdf(made, title=workshop.title, lang="en"))
    assert len(pdf.pages) == 1
    for card in made:
        assert _squash(card.name) in text and card.link in text
    assert sorted(decoded) == sorted(card.link for card in made)


def test_cli_writes_the_cards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'roundtable.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    workshop = demo.load_demo(db.get_engine(url))
    target = tmp_path / "cards.pdf"
    result = CliRunner().invoke(
        cli.main,
        [
            "links",
            "--workshop",
            workshop.slug,
            "--base-url",
            BASE,
            "--format",
            "pdf",
            "-o",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    _, text, decoded = _read(target.read_bytes())
    assert len(decoded) == 20 and f"{BASE}/?join=" in text


def test_join_page_offers_the_cards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, staff_env
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    at = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=30
    )
    at.session_state["identity"] = Identity(Role.ORGANIZER)
    at.run()
    at.switch_page("pages/organizer_join.py").run()
    assert not at.exception
    button = at.get("download_button")
    assert [b.proto.label for b in button] == ["บัตรเข้าร่วมสำหรับพิมพ์ (PDF, A4)"]
