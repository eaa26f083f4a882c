"""The report as DOCX, in the style of a Thai government document."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any, cast

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from models import i18n
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
from models.xmltext import xml_safe

DOCX_FONT = "TH Sarabun New"
DOCX_BODY_PT = 16

# --- DOCX ---------------------------------------------------------------------------------

_THEME_FONT_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
_GREY = RGBColor(0x40, 0x40, 0x40)


def _xml_safe(text: str) -> str:
    return xml_safe(text)


# The order WordprocessingML requires for the children of w:rPr (ECMA-376 CT_RPr).
_RPR_ORDER = (
    "w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike",
    "w:dstrike", "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid",
    "w:vanish", "w:webHidden", "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz",
    "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign",
    "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath",
)  # fmt: skip


def _child(rpr: Any, tag: str) -> Any:
    """`rpr`'s `tag` child, created in its schema position when missing."""
    found = rpr.find(qn(tag))
    if found is None:
        found = OxmlElement(tag)
        rpr.insert_element_before(found, *_RPR_ORDER[_RPR_ORDER.index(tag) + 1 :])
    return found


def _docx_fonts(
    rpr: Any, *, size: float | None = None, bold: bool | None = None, lang: str | None = None
) -> None:
    """Fonts for every script slot (Thai is read from w:cs), sizes and bold for both."""
    rfonts = _child(rpr, "w:rFonts")
    for name in _THEME_FONT_ATTRS:  # a theme font would win over the named one
        rfonts.attrib.pop(qn(name), None)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(slot), DOCX_FONT)
    if bold is not None:
        for tag in ("w:b", "w:bCs"):
            _child(rpr, tag).set(qn("w:val"), "1" if bold else "0")
    if size is not None:
        for tag in ("w:sz", "w:szCs"):  # half-points
            _child(rpr, tag).set(qn("w:val"), str(round(size * 2)))
    if lang is not None:
        found = _child(rpr, "w:lang")
        found.set(qn("w:val"), "th-TH" if lang == "th" else "en-US")
        found.set(qn("w:bidi"), "th-TH")  # the complex-script language: Thai line breaking


def _docx_styles(doc: DocxDocument, lang: str) -> None:
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}") if defaults is not None else None
    if rpr is not None:
        _docx_fonts(rpr, size=DOCX_BODY_PT, lang=lang)
    specs = {
        # name: (size, bold, space before, space after)
        "Normal": (DOCX_BODY_PT, False, 0, 4),
        "Heading 1": (18, True, 12, 6),
        "Heading 2": (16, True, 10, 4),
        "Heading 3": (16, True, 6, 2),
        "List Bullet": (DOCX_BODY_PT, False, 0, 2),
        "Caption": (14, False, 2, 10),
    }
    for name, (size, bold, before, after) in specs.items():
        style = cast(ParagraphStyle, doc.styles[name])
        _docx_fonts(style.element.get_or_add_rPr(), size=size, bold=bold, lang=lang)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.italic = False
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(after)
        style.paragraph_format.line_spacing = 1.0


def _run(
    paragraph: Paragraph,
    text: str,
    *,
    size: float | None = None,
    bold: bool = False,
    color: RGBColor | None = None,
) -> None:
    """User text goes in as a plain text run: nothing in it is interpreted."""
    run = paragraph.add_run(_xml_safe(text))
    _docx_fonts(run._r.get_or_add_rPr(), size=size or DOCX_BODY_PT, bold=bold or None)
    if color is not None:
        run.font.color.rgb = color


def _para(
    doc: DocxDocument,
    text: str = "",
    *,
    style: str | None = None,
    size: float | None = None,
    bold: bool = False,
    align: Any = None,
    indent_cm: float = 0.0,
    color: RGBColor | None = None,
) -> Paragraph:
    paragraph = doc.add_paragraph(style=style)
    if text:
        _run(paragraph, text, size=size, bold=bold, color=color)
    if align is not None:
        paragraph.alignment = align
    if indent_cm:
        paragraph.paragraph_format.left_indent = Cm(indent_cm)
    return paragraph


def _heading(doc: DocxDocument, text: str, level: int) -> None:
    size = {1: 18, 2: 16, 3: 16}[level]
    paragraph = doc.add_paragraph(style=f"Heading {level}")
    _run(paragraph, text, size=size, bold=True)


def _cell(cell: _Cell, text: str, *, size: float, bold: bool = False, align: Any = None) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    if align is not None:
        paragraph.alignment = align
    _run(paragraph, text, size=size, bold=bold)


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    successors = ("w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark")
    cell._tc.get_or_add_tcPr().insert_element_before(shading, *successors)


def _docx_table(
    doc: DocxDocument,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths_cm: Sequence[float],
    *,
    size: float = 14,
    numeric: Sequence[int] = (),
    bold_last: bool = False,
) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    heading_row = table.rows[0]
    properties = heading_row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader"):  # the header row repeats on every page
        element = OxmlElement(tag)
        element.set(qn("w:val"), "true")
        properties.append(element)
    for n, text in enumerate(header):
        _cell(heading_row.cells[n], text, size=size, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for index, values in enumerate(rows):
        cells = table.add_row().cells
        bold = bold_last and index == len(rows) - 1
        for n, text in enumerate(values):
            align = WD_ALIGN_PARAGRAPH.RIGHT if n in numeric else None
            _cell(cells[n], text, size=size, bold=bold, align=align)
    for n, width in enumerate(widths_cm):  # the grid (Word) and every cell (LibreOffice)
        table.columns[n].width = Cm(width)
        for cell in table.columns[n].cells:
            cell.width = Cm(width)
    for cell in heading_row.cells:
        _shade(cell, "E7E6E6")
    doc.add_paragraph().paragraph_format.space_after = Pt(2)


def _page_field(paragraph: Paragraph, size: float) -> None:
    """A PAGE field: Word fills in the page number."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    rpr = run.get_or_add_rPr()  # type: ignore[attr-defined]
    _docx_fonts(rpr, size=size)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _docx_page(doc: DocxDocument, report: ReportData) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = Cm(MARGINS_MM["left"] / 10)
    section.right_margin = Cm(MARGINS_MM["right"] / 10)
    section.top_margin = Cm(MARGINS_MM["top"] / 10)
    section.bottom_margin = Cm(MARGINS_MM["bottom"] / 10)
    section.header_distance = section.footer_distance = Cm(1.2)
    section.different_first_page_header_footer = True
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(header, report.title, size=12, color=_GREY)
    for footer in (section.footer, section.first_page_footer):
        paragraph = footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        before, _, after = i18n.t(report.lang, "report.page", page="\0").partition("\0")
        if before:
            _run(paragraph, before, size=14)
        _page_field(paragraph, 14)
        if after:
            _run(paragraph, after, size=14)


def to_docx(
    report: ReportData,
    images: Mapping[str, bytes] | None = None,
    *,
    progress: Progress | None = None,
) -> bytes:
    """The report as a Word document: A4, TH Sarabun New 16 pt, Thai official layout."""
    lang = report.lang

    def t(key: str, **values: Any) -> str:
        return i18n.t(lang, key, **values)

    step(progress, 0.0, t("report.progress.document"))
    doc = Document()
    _docx_styles(doc, lang)
    _docx_page(doc, report)
    properties = doc.core_properties
    properties.title = _xml_safe(report.title)
    properties.author = properties.last_modified_by = "Roundtable"
    properties.language = "th-TH" if lang == "th" else "en-US"
    properties.created = properties.modified = report.generated_at.replace(tzinfo=None)

    centre = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, t("report.title"), size=20, bold=True, align=centre)
    _para(doc, report.title, size=18, bold=True, align=centre)
    _para(doc, dates_line(report), align=centre)
    if report.venue:
        _para(doc, t("report.venue", venue=report.venue), align=centre)
    _para(doc)

    number = 1
    _heading(doc, section_title(number, "report.summary", lang), 1)
    _para(doc, summary_line(report)).paragraph_format.first_line_indent = Cm(1.25)
    rows = [[name, str(count)] for name, count in report.by_domain]
    rows.append([t("report.total"), str(sum(count for _, count in report.by_domain))])
    _docx_table(
        doc, [t("report.domain"), t("report.issues")], rows, [9.0, 4.0], numeric=[1], bold_last=True
    )
    step(progress, 0.15, t("report.progress.document"))

    pictures = charts_in_order(images)
    if pictures:
        number += 1
        _heading(doc, section_title(number, "report.charts", lang), 1)
        for n, (key, png) in enumerate(pictures, start=1):
            shape = doc.add_picture(io.BytesIO(png), width=Cm(16))
            # Word's "alt text" box, what a screen reader says for the picture.
            shape._inline.docPr.set("descr", _xml_safe(alt_text(key, report)))
            doc.paragraphs[-1].alignment = centre
            doc.paragraphs[-1].paragraph_format.keep_with_next = True
            said = summary(key, report)
            title = _para(doc, caption(key, n, lang), style="Caption", size=14, align=centre)
            if said:
                title.paragraph_format.keep_with_next = True
                _para(doc, said, size=14, color=_GREY, align=centre)
    step(progress, 0.35, t("report.progress.document"))

    number += 1
    _heading(doc, section_title(number, "report.themes", lang), 1)
    _para(doc, t("report.themes_note"), size=14, color=_GREY)
    if not report.themes:
        _para(doc, t("report.no_themes"))
    for theme in report.themes:
        _heading(doc, theme_heading(theme, lang), 2)
        _para(doc, theme_numbers(theme, lang), size=14, color=_GREY)
        if theme.description:
            _para(doc, theme.description)
        _para(doc, t("report.theme_issues", count=len(theme.issues)), bold=True)
        for issue in theme.issues:
            paragraph = _para(doc, issue.statement, style="List Bullet")
            _run(paragraph, f" ({issue.group})", size=14, color=_GREY)
        _para(doc, raised_by(theme, lang), size=14)
    step(progress, 0.6, t("report.progress.document"))

    number += 1
    _heading(doc, section_title(number, "report.recommendations", lang), 1)
    _para(doc, t("report.recommendations_note"), size=14, color=_GREY)
    header = [
        t("report.rec_theme"),
        t("report.rec_text"),
        t("report.rec_owner"),
        t("report.rec_timeframe"),
        t("report.rec_priority"),
    ]
    for section in report.recommendations:
        _heading(doc, section.label, 2)
        if not section.items:
            _para(doc, t("report.no_recommendations"), size=14, color=_GREY)
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
        _docx_table(doc, header, rows, [3.4, 6.0, 2.6, 2.3, 1.7])
    step(progress, 0.75, t("report.progress.document"))

    doc.add_page_break()
    _heading(doc, t("report.appendix"), 1)
    for group in report.appendix:
        _heading(doc, t("report.group_heading", group=group.group, count=group.issue_count), 2)
        if not group.domains:
            _para(doc, t("report.no_issues"), size=14, color=_GREY)
        for part in group.domains:
            _heading(doc, part.domain, 3)
            for issue in part.issues:
                _para(doc, issue.statement, style="List Bullet")
                for line in issue_details(issue, lang):
                    detail = _para(doc, line, size=14, indent_cm=1.27, color=_GREY)
                    detail.paragraph_format.space_after = Pt(0)
    buffer = io.BytesIO()
    doc.save(buffer)
    step(progress, 1.0, t("report.progress.done"))
    return buffer.getvalue()
