"""The workshop report organizers take home: one set of data, written as DOCX and as PDF.

`collect` gathers what the plenary saw (summary, ranked themes, accepted recommendations
by level, every group's issues); `chart_images` renders a few dashboard figures to PNG
through kaleido and Chrome; `to_docx` and `to_pdf` lay the same structure out in the
style of a Thai government document; `export` chains them for the CLI and the page.
One module each: `data` (what the report says, and the wording both formats share),
`images` (charts), `thaiwrap` (line breaking), `word` (DOCX), `pdf`.

Choices worth knowing before changing anything here:

- Recommendation levels run top-down, the way the ministry's line of command does:
  central OBEC → regional cluster (inspection region) → service area office → school
  (`LEVEL_ORDER`; `Level` itself runs bottom-up, school first).
- DOCX names the font "TH Sarabun New" at 16 pt, the size Thai official documents use:
  government PCs have it, and 16 pt is calibrated to its small Thai glyphs. The runs set
  `w:ascii`, `w:hAnsi`, `w:eastAsia` *and* `w:cs` (Word takes Thai from the complex-script
  slot) plus `w:szCs`/`w:bCs`; a PC without the font falls back to another Thai font.
  Sarabun (package fontpkg-sarabun, OFL) is its free counterpart and is what the PDF
  embeds. Sarabun draws Thai larger per point (the TH fonts keep the old small Thai
  metrics), so the PDF sets body text at 12 pt, roughly what 16 pt TH Sarabun New looks
  like (an estimate from the fonts' proportions, not a side-by-side measurement).
- The appendix starts on a new page and its groups follow one another under their own
  headings (kept with their first lines); a page per group would mostly print blank
  paper when groups enter a handful of issues each.
- Thai has no spaces between words and fpdf2 wraps only at (zero-width) spaces, so
  `wrap` breaks lines itself at pythainlp word boundaries and measures with fpdf2's own
  shaped widths; fpdf2 then only honours the newlines. Zero-width spaces would also
  work for fpdf2 (it breaks at U+200B) but Sarabun has no glyph for them and they stay
  in the PDF's text, so searching a Thai phrase in a PDF reader would fail.
- fpdf2 shapes with HarfBuzz (`set_text_shaping(True)`) so tone marks and vowels sit
  right. HarfBuzz splits SARA AM into NIKHAHIT + SARA AA and fpdf2 gives the second glyph
  no ToUnicode entry (copied text gets a stray character), so `_pdf_text` hands fpdf2 the
  two characters already split: identical pixels, and the PDF's text is the NFKC form.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from models import i18n
from models.errors import DomainError
from models.report.data import LEVEL_ORDER, Progress, ReportData, collect, part, step
from models.report.images import CHARTS, ChartRenderer, chart_images, report_figures
from models.report.pdf import to_pdf
from models.report.thaiwrap import words, wrap
from models.report.word import to_docx

__all__ = [
    "CHARTS",
    "FORMATS",
    "LEVEL_ORDER",
    "MIME",
    "ChartRenderer",
    "Progress",
    "ReportData",
    "chart_images",
    "collect",
    "export",
    "file_name",
    "report_figures",
    "to_docx",
    "to_pdf",
    "words",
    "wrap",
]

FORMATS = ("docx", "pdf")
MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}

# Dashboard figures in the report, in order, with the catalogue key of their caption.

# --- all together ---------------------------------------------------------------------------


def file_name(report: ReportData, fmt: str) -> str:
    return f"{report.slug}-report.{fmt}"


def export(
    engine: Engine,
    workshop_id: int,
    lang: str,
    fmt: str,
    *,
    charts: bool = True,
    progress: Progress | None = None,
) -> bytes:
    """The report of one workshop as `fmt` ("docx" or "pdf"), with charts unless told not."""
    if fmt not in FORMATS:
        raise DomainError("error.report.format", value=fmt)
    step(progress, 0.0, i18n.t(lang, "report.progress.collect"))
    report = collect(engine, workshop_id, lang)
    images = (
        chart_images(engine, workshop_id, lang, progress=part(progress, 0.05, 0.5))
        if charts
        else {}
    )
    build = to_docx if fmt == "docx" else to_pdf
    return build(report, images, progress=part(progress, 0.5, 1.0))
