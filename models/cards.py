"""Printable join cards: one card per group (its name, QR code and link) on A4 paper.

The organizer prints them before the workshop and lays one on each group's table, so a
group joins by scanning its own card, without the projector. Six cards a page (two
across, three down), each 90 × 88 mm inside a dashed cutting line with 5 mm of paper
around it, so a crooked cut never reaches the text. Names are set in Sarabun with
HarfBuzz shaping (tone marks and vowels in place) and broken between Thai words
(models/report/thaiwrap.py); a long name is set smaller, never cut, and the QR code
shrinks (not below 30 mm) to leave it room.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from fpdf import FPDF
from sqlalchemy.engine import Engine

from models import fonts, i18n, links, workshops
from models.report.pdf import PDF_FAMILY, pdf_text
from models.report.thaiwrap import clusters, wrap
from models.schema import Workshop

PAGE_MARGIN_MM = 10.0
COLUMNS, ROWS = 2, 3
GUTTER_MM = 5.0  # paper between a card's cutting line and its text, on every side
QR_MM = 44.0  # scans from arm's length on a phone; a segno module is ~0.9 mm at this size
QR_MIN_MM = 30.0  # when a long name takes the room, the code shrinks down to this
# (size in points, most lines) tried in turn: a long name is set smaller, never cut.
NAME_PT = ((18.0, 2), (15.0, 2), (12.0, 3), (10.0, 99))
_PT_MM = 25.4 / 72


@dataclass(frozen=True)
class Card:
    name: str
    link: str
    code: str


def workshop_cards(engine: Engine, workshop: Workshop, *, base: str) -> list[Card]:
    """One card per group of `workshop`, in the groups' order, with links on `base`."""
    return [
        Card(group.name, links.join_link(base, group.join_code), group.join_code)
        for group in workshops.list_groups(engine, workshop.id)  # type: ignore[arg-type]
    ]


def file_name(workshop: Workshop) -> str:
    return f"{workshop.slug}-join-cards.pdf"


class _CardsPDF(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_margins(PAGE_MARGIN_MM, PAGE_MARGIN_MM, PAGE_MARGIN_MM)
        self.set_auto_page_break(False)
        self.c_margin = 0
        self.add_font(PDF_FAMILY, "", str(fonts.font_path(400)))
        self.add_font(PDF_FAMILY, "B", str(fonts.font_path(700)))
        self.set_text_shaping(True)
        self.set_title(pdf_text(title))
        self.set_creator("Roundtable")

    def lines(self, text: str, width: float, *, most: int) -> list[str] | None:
        """`text` in lines of `width` mm in the current font, or None past `most` lines."""
        found = wrap(text, width, lambda s: self.get_string_width(pdf_text(s)))
        return found if len(found) <= most else None

    def text_lines(self, x: float, y: float, width: float, lines: Sequence[str]) -> float:
        """Centred lines from `y`; returns the y below them."""
        height = _line(self.font_size_pt)
        for line in lines:
            self.set_xy(x, y)
            self.cell(width, height, pdf_text(line), align="C")
            y += height
        return y


def _link_lines(pdf: _CardsPDF, link: str, width: float) -> list[str]:
    """A link broken anywhere (it has no spaces), filling each line."""
    lines, current = [], ""
    for char in link:
        if current and pdf.get_string_width(current + char) > width:
            lines.append(current)
            current = ""
        current += char
    return [*lines, current]


def cards_pdf(cards: Sequence[Card], *, title: str, lang: str) -> bytes:
    """The cards as an A4 PDF, six a page, with dashed cutting lines between them."""
    pdf = _CardsPDF(title)
    card_w = (pdf.w - 2 * PAGE_MARGIN_MM) / COLUMNS
    card_h = (pdf.h - 2 * PAGE_MARGIN_MM) / ROWS
    inner, tall = card_w - 2 * GUTTER_MM, card_h - 2 * GUTTER_MM
    for index, card in enumerate(cards):
        slot = index % (COLUMNS * ROWS)
        if slot == 0:
            pdf.add_page()
            _cutting_lines(pdf, card_w, card_h)
        x = PAGE_MARGIN_MM + (slot % COLUMNS) * card_w + GUTTER_MM
        top = PAGE_MARGIN_MM + (slot // COLUMNS) * card_h + GUTTER_MM

        pdf.set_text_color(90)
        pdf.set_font(PDF_FAMILY, "", 8.5)
        y = pdf.text_lines(
            x, top, inner, pdf.lines(title, inner, most=1) or [_fit(pdf, title, inner)]
        )

        pdf.set_text_color(0)
        name: list[str] | None = None
        for size, most in NAME_PT:
            pdf.set_font(PDF_FAMILY, "B", size)
            name = pdf.lines(card.name, inner, most=most)
            if name is not None:
                break
        y = pdf.text_lines(x, y + 0.5, inner, name or [card.name])

        pdf.set_font(PDF_FAMILY, "", 8.5)
        link = _link_lines(pdf, card.link, inner)
        below = (3 + len(link)) * _line(9.5)  # hint, code, link
        qr = max(QR_MIN_MM, min(QR_MM, top + tall - y - below - 3))
        pdf.image(io.BytesIO(links.qr_png(card.link)), x=x + (inner - qr) / 2, y=y + 1, w=qr)
        y += qr + 2

        pdf.set_font(PDF_FAMILY, "", 9.5)
        y = pdf.text_lines(x, y, inner, [i18n.t(lang, "join.card_hint")])
        pdf.set_font(PDF_FAMILY, "B", 10)
        y = pdf.text_lines(x, y, inner, [i18n.t(lang, "join.card_code", code=card.code)])
        pdf.set_font(PDF_FAMILY, "", 8.5)
        pdf.text_lines(x, y, inner, link)
    if not cards:
        pdf.add_page()
    return bytes(pdf.output())


def _line(size: float) -> float:
    return size * _PT_MM * 1.45


def _fit(pdf: _CardsPDF, text: str, width: float) -> str:
    """One line of `text`, cut between character clusters with "…" to `width` mm."""
    kept = ""
    for cluster in clusters(text):
        if pdf.get_string_width(pdf_text(kept + cluster + "…")) > width:
            break
        kept += cluster
    return kept + "…"


def _cutting_lines(pdf: _CardsPDF, card_w: float, card_h: float) -> None:
    pdf.set_draw_color(150)
    pdf.set_line_width(0.2)
    left, top = PAGE_MARGIN_MM, PAGE_MARGIN_MM
    right, bottom = left + COLUMNS * card_w, top + ROWS * card_h
    with pdf.local_context():
        pdf.set_dash_pattern(dash=2, gap=1.5)
        for n in range(COLUMNS + 1):
            pdf.line(left + n * card_w, top, left + n * card_w, bottom)
        for n in range(ROWS + 1):
            pdf.line(left, top + n * card_h, right, top + n * card_h)
