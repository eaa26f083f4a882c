"""The report as PDF: fpdf2 with Sarabun embedded and HarfBuzz shaping."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from models import fonts, i18n
from models.report.data import (
    MARGINS_MM,
    Progress,
    ReportData,
    dates_line,
    issue_details,
    raised_by,
    section_title,
    step,
    summary_line,
    theme_heading,
    theme_numbers,
)
from models.report.images import alt_text, caption, charts_in_order, summary
from models.report.thaiwrap import wrap

PDF_FAMILY = "Sarabun"
PDF_BODY_PT = 12  # Sarabun 12 pt reads like TH Sarabun New 16 pt
PDF_LINE = 1.5  # line height as a multiple of the font size: room for stacked marks
_PT_MM = 25.4 / 72
_HEADING_PT = (16.0, 14.0, 12.5)  # PDF heading sizes by level
_HEADING_GAP_MM = (4.0, 3.0, 1.5)  # space above a heading, by level

# --- PDF ----------------------------------------------------------------------------------


def _pdf_text(text: str) -> str:
    """SARA AM as NIKHAHIT + SARA AA, as HarfBuzz would draw it (see module docstring)."""
    return text.replace("\u0e33", "\u0e4d\u0e32")


pdf_text = _pdf_text  # the join cards (models/cards.py) draw Thai the same way


class _ReportPDF(FPDF):
    """fpdf2 with Sarabun, shaping on, Thai-aware paragraphs and the report's header/footer."""

    def __init__(self, report: ReportData) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report = report
        self.set_margins(MARGINS_MM["left"], MARGINS_MM["top"], MARGINS_MM["right"])
        self.set_auto_page_break(True, margin=MARGINS_MM["bottom"])
        self.c_margin = 0  # paragraphs line up with the margin; tables set their own padding
        self.add_font(PDF_FAMILY, "", str(fonts.font_path(400)))
        self.add_font(PDF_FAMILY, "B", str(fonts.font_path(700)))
        self.set_text_shaping(True)
        self.set_creation_date(report.generated_at)
        self.set_title(report.title)
        self.set_lang("th" if report.lang == "th" else "en")
        self.set_creator("Roundtable")
        self._widths: dict[tuple[str, float, str], float] = {}

    def measure(self, text: str) -> float:
        """The width `text` will take in the current font (as drawn: see `_pdf_text`).

        Cached per word and font: the same words recur all through a report.
        """
        key = (self.font_style, self.font_size_pt, text)
        if key not in self._widths:
            self._widths[key] = self.get_string_width(_pdf_text(text))
        return self._widths[key]

    def wrap(self, text: str, width: float, keep: Iterable[str] = ()) -> str:
        """`text` broken into lines for fpdf2, which then only honours the newlines."""
        lines = wrap(text, width - 0.3, self.measure, keep=keep)  # 0.3 mm: rounding slack
        return _pdf_text("\n".join(lines))

    @staticmethod
    def line_height(size: float) -> float:
        return size * _PT_MM * PDF_LINE

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(PDF_FAMILY, "", 9)
            self.set_text_color(100)
            title = self.report.title
            while len(title) > 1 and self.measure(title) > self.epw:
                title = title[:-2] + "…"
            self.set_xy(self.l_margin, 12)
            self.cell(self.epw, 5, _pdf_text(title), align="R")
            self.set_draw_color(160)
            self.set_line_width(0.2)
            self.line(self.l_margin, 18, self.w - self.r_margin, 18)
            self.set_text_color(0)
        self.set_y(self.t_margin)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(PDF_FAMILY, "", 10)
        self.set_text_color(80)
        self.cell(
            self.epw, 6, i18n.t(self.report.lang, "report.page", page=self.page_no()), align="C"
        )
        self.set_text_color(0)

    def fits(self, height: float) -> bool:
        return self.get_y() + height <= self.page_break_trigger

    def text_block(
        self,
        text: str,
        *,
        size: float = PDF_BODY_PT,
        bold: bool = False,
        indent: float = 0.0,
        align: str = "L",
        after: float = 1.5,
        grey: bool = False,
        keep: Iterable[str] = (),
    ) -> None:
        """A paragraph of plain text, wrapped at Thai word boundaries."""
        self.set_font(PDF_FAMILY, "B" if bold else "", size)
        if grey:
            self.set_text_color(70)
        width = self.epw - indent
        # One cell per line, already broken: multi_cell would break every line again,
        # shaping it once per character (most of a long report's time went there).
        for line in self.wrap(text, width, keep).split("\n"):
            self.set_x(self.l_margin + indent)
            self.cell(
                width, self.line_height(size), line, align=align, new_x="LMARGIN", new_y="NEXT"
            )
        self.set_text_color(0)
        self.ln(after)

    def heading_height(self, level: int) -> float:
        return _HEADING_GAP_MM[level] + self.line_height(_HEADING_PT[level]) + 1.0

    def heading(self, text: str, level: int, *, keep: float | None = None) -> None:
        """A heading in the outline, on the page of the first `keep` mm of what follows
        (default: two lines of body text)."""
        size, before = _HEADING_PT[level], _HEADING_GAP_MM[level]
        if keep is None:
            keep = 2 * self.line_height(PDF_BODY_PT)
        if not self.fits(self.heading_height(level) + keep):
            self.add_page()
        elif self.get_y() > self.t_margin + 1:
            self.ln(before)
        if level < 2:
            self.start_section(text, level=level)
        self.text_block(text, size=size, bold=True, after=1.0)

    def bullet(self, text: str, *, size: float = PDF_BODY_PT, note: str = "") -> None:
        """A bulleted paragraph; `note` (a group's name) is never split across lines."""
        height = self.line_height(size)
        if not self.fits(height):
            self.add_page()
        self.set_font(PDF_FAMILY, "", size)
        self.set_xy(self.l_margin + 2, self.get_y())
        self.cell(4, height, "•")
        text = f"{text} {note}".rstrip()
        self.text_block(text, size=size, indent=7, after=0.8, keep=[note] if note else [])

    def grid(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        fractions: Sequence[float],
        *,
        size: float = 11,
        width: float | None = None,
        numeric: Sequence[int] = (),
        bold_last: bool = False,
        heading: str | None = None,
    ) -> None:
        """A ruled table whose cells wrap Thai text between words, after an optional
        level-1 heading kept on the page of the table's first row."""
        width = width or self.epw
        padding = 1.5
        columns = [width * f / sum(fractions) for f in fractions]
        line = self.line_height(size) * 0.95

        def wrapped(values: Sequence[str], bold: bool) -> list[str]:
            self.set_font(PDF_FAMILY, "B" if bold else "", size)
            return [self.wrap(text, columns[n] - 2 * padding) for n, text in enumerate(values)]

        cells = [wrapped(header, True)]
        cells += [wrapped(v, bold_last and n == len(rows) - 1) for n, v in enumerate(rows)]
        # fpdf2 cannot break a row across pages: a row taller than a page (a 2,000-character
        # recommendation, a flood of newlines) goes on as more rows of at most a page each.
        head_lines = max(c.count("\n") + 1 for c in cells[0])
        room = self.page_break_trigger - self.t_margin - (head_lines + 1) * line - 4 * padding
        most = max(1, int(room // line) - 1)
        split = [cells[0]]
        for values in cells[1:]:
            lines = [text.split("\n") for text in values]
            for start in range(0, max(len(column) for column in lines), most):
                split.append(["\n".join(column[start : start + most]) for column in lines])
        rows = split[1:]
        cells = split
        if heading is not None:
            first = cells[: min(2, len(cells))]
            tall = sum(max(c.count("\n") + 1 for c in row) * line + 2 * padding for row in first)
            self.heading(heading, 1, keep=tall)
        self.set_font(PDF_FAMILY, "", size)
        align = tuple("RIGHT" if n in numeric else "LEFT" for n in range(len(columns)))
        with self.table(
            width=width,
            col_widths=tuple(columns),
            text_align=align,
            v_align="TOP",
            line_height=line,
            padding=padding,
            headings_style=FontFace(emphasis="BOLD", fill_color=(231, 230, 230)),
            repeat_headings=1,
            align="LEFT",
        ) as table:
            heading_row = table.row()
            for text in cells[0]:
                heading_row.cell(text, align="CENTER")
            for index, values in enumerate(cells[1:]):
                bold = bold_last and index == len(rows) - 1
                row = table.row(style=FontFace(emphasis="BOLD") if bold else None)
                for text in values:
                    row.cell(text)
        self.set_font(PDF_FAMILY, "", PDF_BODY_PT)
        self.ln(3)

    def picture(self, png: bytes, caption: str, *, alt: str, said: str | None = None) -> None:
        """The image (tagged with `alt`, read by screen readers), its caption and what it
        says in words (`said`)."""
        pixels_wide, pixels_high = struct.unpack(">II", png[16:24])  # the PNG's IHDR
        width = self.epw
        height = width * pixels_high / pixels_wide
        caption_height = self.line_height(10) + 4 + (3 * self.line_height(10.5) if said else 0)
        if not self.fits(height + caption_height):
            self.add_page()
        image = io.BytesIO(png)
        self.image(image, x=self.l_margin, y=self.get_y(), w=width, h=height, alt_text=alt)
        self.set_y(self.get_y() + height + 1)
        self.text_block(caption, size=10.5, align="C", after=1 if said else 4, grey=True)
        if said:
            self.text_block(said, size=10.5, align="C", after=4, grey=True)

    def rule(self) -> None:
        self.set_draw_color(120)
        self.set_line_width(0.3)
        y = self.get_y()
        self.line(self.l_margin + self.epw * 0.3, y, self.l_margin + self.epw * 0.7, y)
        self.ln(4)


def to_pdf(
    report: ReportData,
    images: Mapping[str, bytes] | None = None,
    *,
    progress: Progress | None = None,
) -> bytes:
    """The report as PDF: A4, Sarabun embedded, Thai shaped and broken between words.

    Deterministic: the same report gives the same bytes (the creation date is
    `report.generated_at`).
    """
    lang = report.lang

    def t(key: str, **values: Any) -> str:
        return i18n.t(lang, key, **values)

    step(progress, 0.0, t("report.progress.document"))
    pdf = _ReportPDF(report)
    pdf.add_page()

    pdf.ln(4)
    pdf.text_block(t("report.title"), size=18, bold=True, align="C", after=2)
    pdf.text_block(report.title, size=15, bold=True, align="C", after=2)
    pdf.text_block(dates_line(report), size=PDF_BODY_PT, align="C", after=0.5)
    if report.venue:
        pdf.text_block(t("report.venue", venue=report.venue), align="C", after=0.5)
    pdf.ln(3)
    pdf.rule()

    body = pdf.line_height(PDF_BODY_PT)
    number = 1
    pdf.heading(section_title(number, "report.summary", lang), 0)
    pdf.text_block(summary_line(report), after=3)
    rows = [[name, str(count)] for name, count in report.by_domain]
    rows.append([t("report.total"), str(sum(count for _, count in report.by_domain))])
    pdf.grid(
        [t("report.domain"), t("report.issues")],
        rows,
        [2.2, 1.3],
        width=pdf.epw * 0.7,
        numeric=[1],
        bold_last=True,
    )
    step(progress, 0.15, t("report.progress.document"))

    pictures = charts_in_order(images)
    if pictures:
        number += 1
        pdf.heading(section_title(number, "report.charts", lang), 0)
        for n, (key, png) in enumerate(pictures, start=1):
            pdf.picture(
                png, caption(key, n, lang), alt=alt_text(key, report), said=summary(key, report)
            )
    step(progress, 0.45, t("report.progress.document"))

    number += 1
    note = 2 * pdf.line_height(10.5)
    pdf.heading(
        section_title(number, "report.themes", lang),
        0,
        keep=note + pdf.heading_height(1) + 3 * body,
    )
    pdf.text_block(t("report.themes_note"), size=10.5, grey=True, after=2)
    if not report.themes:
        pdf.text_block(t("report.no_themes"))
    for theme in report.themes:
        pdf.heading(theme_heading(theme, lang), 1, keep=3 * body)
        pdf.text_block(
            theme_numbers(theme, lang),
            size=10.5,
            grey=True,
            after=1.5,
            keep=[t("report.not_scored")],
        )
        if theme.description:
            pdf.text_block(theme.description, after=1.5)
        pdf.text_block(t("report.theme_issues", count=len(theme.issues)), bold=True, after=0.8)
        for issue in theme.issues:
            pdf.bullet(issue.statement, note=f"({issue.group})")
        pdf.ln(0.8)
        pdf.text_block(raised_by(theme, lang), size=10.5, after=2, keep=theme.raised_by)
    step(progress, 0.65, t("report.progress.document"))

    number += 1
    pdf.heading(
        section_title(number, "report.recommendations", lang),
        0,
        keep=note + pdf.heading_height(1) + 4 * body,
    )
    pdf.text_block(t("report.recommendations_note"), size=10.5, grey=True, after=2)
    header = [
        t("report.rec_theme"),
        t("report.rec_text"),
        t("report.rec_owner"),
        t("report.rec_timeframe"),
        t("report.rec_priority"),
    ]
    for section in report.recommendations:
        if not section.items:
            pdf.heading(section.label, 1)
            pdf.text_block(t("report.no_recommendations"), size=10.5, grey=True, after=2)
            continue
        rows = [
            [
                f"{item.theme_rank}. {item.theme}",
                item.text,
                item.owner,
                item.timeframe,
                t(f"recommend.priority.{item.priority}"),
            ]
            for item in section.items
        ]
        pdf.grid(header, rows, [3.0, 5.2, 2.8, 2.5, 2.1], size=10.5, heading=section.label)
    step(progress, 0.8, t("report.progress.document"))

    pdf.add_page()
    pdf.heading(t("report.appendix"), 0)
    for group in report.appendix:
        title = t("report.group_heading", group=group.group, count=group.issue_count)
        pdf.heading(title, 1, keep=pdf.heading_height(2) + 2 * body)
        if not group.domains:
            pdf.text_block(t("report.no_issues"), size=10.5, grey=True)
        for part in group.domains:
            pdf.heading(part.domain, 2)
            for issue in part.issues:
                pdf.bullet(issue.statement)
                for line in issue_details(issue, lang):
                    pdf.text_block(line, size=10.5, indent=7, after=0.3, grey=True)
                pdf.ln(1)
    data = bytes(pdf.output())
    step(progress, 1.0, t("report.progress.done"))
    return data
