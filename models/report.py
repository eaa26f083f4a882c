"""The workshop report organizers take home: one set of data, written as DOCX and as PDF.

`collect` gathers what the plenary saw (summary, ranked themes, accepted recommendations
by level, every group's issues); `chart_images` renders a few dashboard figures to PNG
through kaleido and Chrome; `to_docx` and `to_pdf` lay the same structure out in the
style of a Thai government document; `export` chains them for the CLI and the page.

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

import asyncio
import atexit
import contextlib
import datetime as dt
import functools
import io
import os
import re
import shutil
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import kaleido
import plotly.graph_objects as go
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
from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlalchemy.engine import Engine

from models import charts, fonts, i18n, ranking, recommendations, stats, thai, themes
from models.errors import DomainError
from models.schema import Issue, Level, RecommendationStatus, utcnow

Progress = Callable[[float, str], None]

# Top-down, as the ministry is organised (see the module docstring).
LEVEL_ORDER: tuple[Level, ...] = (Level.CENTRAL, Level.CLUSTER, Level.AREA, Level.SCHOOL)
FORMATS = ("docx", "pdf")
MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}

# Dashboard figures in the report, in order, with the catalogue key of their caption.
CHARTS: dict[str, str] = {
    "by_domain": "overview.by_domain",
    "heatmap": "dashboard.heatmap",
    "top_themes": "dashboard.top_themes",
    "bubble": "dashboard.bubble",
}
CHART_WIDTH_PX = 800  # at scale 2: 1600 px across 16 cm of paper, ~250 dpi; print-size type

DOCX_FONT = "TH Sarabun New"
DOCX_BODY_PT = 16
PDF_FAMILY = "Sarabun"
PDF_BODY_PT = 12  # Sarabun 12 pt reads like TH Sarabun New 16 pt
PDF_LINE = 1.5  # line height as a multiple of the font size: room for stacked marks
# Thai official documents: 3 cm left, 2 cm right, 2.5 cm top, 2 cm bottom (in mm).
MARGINS_MM = {"left": 30.0, "right": 20.0, "top": 25.0, "bottom": 20.0}
_PT_MM = 25.4 / 72
_HEADING_PT = (16.0, 14.0, 12.5)  # PDF heading sizes by level
_HEADING_GAP_MM = (4.0, 3.0, 1.5)  # space above a heading, by level


# --- the report's data -----------------------------------------------------------------


@dataclass(frozen=True)
class IssueItem:
    group: str
    domain: str
    statement: str
    cause: str
    impact: str
    fix: str
    theme: str | None  # the live theme's title; None when not grouped (or hidden)
    hidden_reason: str | None


@dataclass(frozen=True)
class ThemeItem:
    rank: int
    tied_with_previous: bool
    title: str
    description: str
    votes: int
    group_count: int
    group_total: int
    raised_by: tuple[str, ...]
    impact: float | None
    feasibility: float | None
    issues: tuple[IssueItem, ...]


@dataclass(frozen=True)
class RecommendationItem:
    theme_rank: int
    theme: str
    text: str
    owner: str
    timeframe: str
    priority: int  # 1 high, 2 medium, 3 low


@dataclass(frozen=True)
class LevelSection:
    level: str  # a Level value
    label: str
    items: tuple[RecommendationItem, ...]


@dataclass(frozen=True)
class DomainIssues:
    domain: str
    issues: tuple[IssueItem, ...]


@dataclass(frozen=True)
class GroupAppendix:
    group: str
    domains: tuple[DomainIssues, ...]  # only domains the group entered issues in

    @property
    def issue_count(self) -> int:
        return sum(len(d.issues) for d in self.domains)


@dataclass(frozen=True)
class ReportData:
    lang: str
    slug: str
    title: str
    venue: str
    dates: str  # in `lang`: Buddhist era in Thai
    single_day: bool
    issue_count: int
    groups_active: int  # groups that entered at least one issue
    group_total: int
    theme_count: int
    votes_cast: int
    by_domain: tuple[tuple[str, int], ...]
    themes: tuple[ThemeItem, ...]  # ranked
    recommendations: tuple[LevelSection, ...]  # every level of LEVEL_ORDER, accepted only
    appendix: tuple[GroupAppendix, ...]  # every group, in the workshop's order
    generated_at: dt.datetime  # PDF/DOCX metadata only; never printed on a page


def collect(engine: Engine, workshop_id: int, lang: str) -> ReportData:
    """Everything the report shows, read once (raises NotFound for an unknown workshop)."""
    board = themes.board(engine, workshop_id)
    ranked = ranking.rank(engine, workshop_id)
    summary = stats.summary(engine, workshop_id)
    workshop = board.workshop
    domains = {d.id: summary.domain_label(d, lang) for d in summary.domains}
    domain_order = {d.id: n for n, d in enumerate(summary.domains)}
    groups = {gid: g.name for gid, g in board.groups.items()}
    group_order = {gid: n for n, gid in enumerate(board.groups)}
    titles = {view.theme.id: view.theme.title for view in board.themes}

    def item(issue: Issue) -> IssueItem:
        return IssueItem(
            group=groups.get(issue.group_id, ""),
            domain=domains.get(issue.domain_id, ""),
            statement=issue.statement,
            cause=issue.cause,
            impact=issue.impact,
            fix=issue.fix,
            theme=titles.get(issue.theme_id) if issue.hidden_reason is None else None,
            hidden_reason=issue.hidden_reason,
        )

    def by_group(issues: Iterable[Issue]) -> list[Issue]:
        return sorted(issues, key=lambda i: (group_order.get(i.group_id, 0), i.id or 0))

    views = {view.theme.id: view for view in board.themes}
    theme_items = tuple(
        ThemeItem(
            rank=r.rank,
            tied_with_previous=r.tied_with_previous,
            title=r.theme.title,
            description=r.theme.description,
            votes=r.votes,
            group_count=r.group_count,
            group_total=r.group_total,
            raised_by=r.raised_by,
            impact=r.impact,
            feasibility=r.feasibility,
            issues=tuple(item(i) for i in by_group(views[r.theme.id].issues)),
        )
        for r in ranked
    )

    accepted = recommendations.by_theme_and_level(
        engine, workshop_id, statuses=[RecommendationStatus.ACCEPTED]
    )
    levels = tuple(
        LevelSection(
            level=level.value,
            label=i18n.t(lang, f"level.{level.value}"),
            items=tuple(
                RecommendationItem(
                    theme_rank=r.rank,
                    theme=r.theme.title,
                    text=rec.text,
                    owner=rec.owner,
                    timeframe=rec.timeframe,
                    priority=rec.priority,
                )
                for r in ranked
                for rec in accepted.get(r.theme.id, {}).get(level.value, [])  # type: ignore[arg-type]
            ),
        )
        for level in LEVEL_ORDER
    )

    live = [*(i for view in board.themes for i in view.issues), *board.ungrouped, *board.hidden]
    appendix = []
    for gid, name in groups.items():
        own = sorted(
            (i for i in live if i.group_id == gid),
            key=lambda i: (domain_order.get(i.domain_id, len(domain_order)), i.id or 0),
        )
        sections: dict[int, list[IssueItem]] = {}
        for issue in own:
            sections.setdefault(issue.domain_id, []).append(item(issue))
        appendix.append(
            GroupAppendix(
                group=name,
                domains=tuple(
                    DomainIssues(domains.get(did, ""), tuple(found))
                    for did, found in sections.items()
                ),
            )
        )

    return ReportData(
        lang=lang,
        slug=workshop.slug,
        title=workshop.title,
        venue=workshop.venue,
        dates=i18n.format_date_range(workshop.starts_on, workshop.ends_on, lang),
        single_day=workshop.starts_on == workshop.ends_on,
        issue_count=summary.issue_count,
        groups_active=summary.active_groups,
        group_total=summary.group_count,
        theme_count=len(ranked),
        votes_cast=sum(r.votes for r in ranked),
        by_domain=tuple((str(k), int(v)) for k, v in summary.by_domain(lang).items()),
        themes=theme_items,
        recommendations=levels,
        appendix=tuple(appendix),
        generated_at=utcnow(),
    )


# --- shared wording ----------------------------------------------------------------------


def _mean(value: float | None, lang: str) -> str:
    return i18n.t(lang, "report.not_scored") if value is None else f"{value:.1f}"


def _dates_line(report: ReportData) -> str:
    key = "report.date_single" if report.single_day else "report.date_range"
    return i18n.t(report.lang, key, dates=report.dates)


def _summary_line(report: ReportData) -> str:
    return i18n.t(
        report.lang,
        "report.summary_text",
        active=report.groups_active,
        groups=report.group_total,
        issues=report.issue_count,
        themes=report.theme_count,
        votes=report.votes_cast,
    )


def _theme_heading(theme: ThemeItem, lang: str) -> str:
    return i18n.t(lang, "report.theme_heading", rank=theme.rank, title=theme.title)


def _theme_numbers(theme: ThemeItem, lang: str) -> str:
    line = i18n.t(
        lang,
        "report.theme_numbers",
        votes=theme.votes,
        groups=theme.group_count,
        total=theme.group_total,
        impact=_mean(theme.impact, lang),
        feasibility=_mean(theme.feasibility, lang),
    )
    return f"{line} {i18n.t(lang, 'report.tied')}" if theme.tied_with_previous else line


def _raised_by(theme: ThemeItem, lang: str) -> str:
    return i18n.t(
        lang,
        "report.raised_by",
        count=theme.group_count,
        total=theme.group_total,
        groups=", ".join(theme.raised_by),
    )


def _issue_details(issue: IssueItem, lang: str) -> list[str]:
    """The lines under an issue in the appendix: cause, impact, fix, and where it went."""
    lines = [
        i18n.t(lang, f"report.{key}", text=value)
        for key, value in (("cause", issue.cause), ("impact", issue.impact), ("fix", issue.fix))
        if value
    ]
    if issue.hidden_reason is not None:
        lines.append(i18n.t(lang, "report.hidden", reason=issue.hidden_reason))
    elif issue.theme is not None:
        lines.append(i18n.t(lang, "report.in_theme", title=issue.theme))
    else:
        lines.append(i18n.t(lang, "report.ungrouped"))
    return lines


def _section_title(number: int, key: str, lang: str) -> str:
    return f"{number}. {i18n.t(lang, key)}"


def _step(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), message)


def _part(progress: Progress | None, start: float, end: float) -> Progress | None:
    """A callback that maps 0–1 onto start–end of the caller's bar."""
    if progress is None:
        return None
    outer = progress
    return lambda fraction, message: outer(start + (end - start) * fraction, message)


# --- Thai line breaking --------------------------------------------------------------------

# No line may start with these (they stick to the word before) ...
_NO_BREAK_BEFORE = frozenset(")]}»”’,.;:!?%-ๆฯ")
# ... nor end with these (they stick to the word after).
_NO_BREAK_AFTER = frozenset("([{«“‘")
# A base character with the Thai marks written above or below it: never split apart.
_CLUSTER = re.compile(r".[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]*", re.DOTALL)


def words(text: str, *, keep: Iterable[str] = ()) -> list[str]:
    """Where a line may break: pythainlp `newmm` words, spaces kept, punctuation glued.

    Each occurrence of a string in `keep` (a group's name, say) stays one piece.
    """
    out: list[str] = []
    glue = False
    for token in thai.word_tokenize(text, engine="newmm", keep_whitespace=True):
        if out and not token.isspace() and (glue or token[0] in _NO_BREAK_BEFORE):
            if token[0] in _NO_BREAK_BEFORE and len(out) > 1 and out[-1].isspace():
                token = out.pop() + token  # "เรื่อย ๆ": the space before ๆ is no break either
            out[-1] += token
        else:
            out.append(token)
        glue = not token.isspace() and token[-1] in _NO_BREAK_AFTER
    spans = [
        (found.start(), found.end())
        for unit in keep
        if unit
        for found in re.finditer(re.escape(unit), text)
    ]
    if not spans:
        return out
    merged: list[str] = []
    position = 0
    for token in out:
        if merged and any(start < position < end for start, end in spans):
            merged[-1] += token
        else:
            merged.append(token)
        position += len(token)
    return merged


def _pack(pieces: Iterable[str], width: float, measure: Callable[[str], float]) -> list[str]:
    """Pieces joined into lines of at most `width`; a piece too wide alone gets a line."""
    lines, current = [], ""
    for piece in pieces:
        if current and measure(current + piece) > width:
            lines.append(current)
            current = ""
        current += piece
    return [*lines, current] if current else lines


def _break_long(token: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """A piece wider than a line: a kept unit is wrapped after all, a word is cut between
    syllables, and a syllable still too wide between character clusters."""
    if any(c.isspace() for c in token):
        return wrap(token, width, measure)
    # Imported here, after models.thai has told pythainlp to stay read-only.
    from pythainlp.tokenize import syllable_tokenize

    pieces: list[str] = []
    for syllable in syllable_tokenize(token, engine="dict"):
        if measure(syllable) > width:
            pieces += _CLUSTER.findall(syllable)
        else:
            pieces.append(syllable)
    return _pack(pieces, width, measure)


def wrap(
    text: str, width: float, measure: Callable[[str], float], *, keep: Iterable[str] = ()
) -> list[str]:
    """Lines of at most `width` (as `measure` counts), broken between words; newlines kept.

    Greedy filling: a word goes on the line if it fits, else starts the next one; the
    spaces at a break are dropped. A word longer than a whole line is cut between
    syllables (then character clusters), never between a consonant and its marks.
    Strings in `keep` are not broken unless they are longer than a line.
    """
    keep = tuple(keep)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for token in words(paragraph, keep=keep):
            size = measure(token)
            if token.isspace():
                if line:
                    line.append(token)
                    used += size
                continue
            if line and used + size > width:
                lines.append("".join(line).rstrip())
                line, used = [], 0.0
            if size > width:
                *full, token = _break_long(token, width, measure)
                lines.extend(full)
                size = measure(token)
            line.append(token)
            used += size
        lines.append("".join(line).rstrip())
    return lines


# --- charts ----------------------------------------------------------------------------------


def report_figures(engine: Engine, workshop_id: int, lang: str) -> dict[str, go.Figure]:
    """The dashboard figures the report shows, titled by the document's captions instead."""
    summary = stats.summary(engine, workshop_id)
    ranked = ranking.rank(engine, workshop_id)
    figures = {
        "by_domain": charts.issues_by_domain(summary, lang),
        "heatmap": charts.group_domain_heatmap(summary, lang),
    }
    if ranked:
        figures["top_themes"] = charts.top_themes(ranked, lang)
    if any(r.impact is not None for r in ranked):
        figures["bubble"] = charts.impact_feasibility(ranked, lang)
    for figure in figures.values():
        figure.update_layout(title_text="", margin=dict(t=40))
    if "bubble" in figures:  # labels above the top bubbles stay visible
        figures["bubble"].update_traces(cliponaxis=False)
    return figures


@functools.cache
def _chrome_sees_sarabun() -> None:
    """Make Sarabun an installed font for the Chrome that kaleido starts.

    Chrome draws plotly's PNG from an SVG image, which uses installed fonts only, and a
    venue laptop rarely has a Thai one (Thai turns into boxes). Where fonts come from
    fontconfig (Linux), a config that adds the package's font folder to the system's is
    handed to Chrome through FONTCONFIG_FILE; elsewhere, install Sarabun system-wide.
    """
    base = Path(os.environ.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf")
    if not base.is_file():
        return
    folder = Path(tempfile.mkdtemp(prefix="roundtable-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig>\n  <cachedir>{folder}</cachedir>\n"
        f'  <include ignore_missing="yes">{base}</include>\n'
        f"  <dir>{fonts.FONT_DIR}</dir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    os.environ["FONTCONFIG_FILE"] = str(config)


async def _open_kaleido() -> Any:
    browser = kaleido.Kaleido(mathjax=False)  # MathJax would come from a CDN: offline venue
    try:
        await browser.open()
    except BaseException:
        with contextlib.suppress(Exception):
            await browser.close()
        raise
    return browser


class ChartRenderer:
    """One headless Chrome, started on first use and kept warm (~0.1–0.3 s per image).

    Kaleido's own sync server (`kaleido.start_sync_server`) is not used: when Chrome
    fails to start its worker thread dies and every later call waits forever, and its
    one shared result queue can hand two concurrent callers each other's images
    (Streamlit runs sessions in threads). Here the browser lives on an event loop in a
    thread of its own and each call waits on its own future, with a timeout.
    """

    def __init__(self, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._browser: Any = None

    def start(self) -> None:
        """Start Chrome unless running; DomainError("error.report.charts") if it can't."""
        with self._lock:
            if self._browser is not None:
                return
            _chrome_sees_sarabun()
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="kaleido", daemon=True).start()
            try:
                future = asyncio.run_coroutine_threadsafe(_open_kaleido(), loop)
                self._browser = future.result(self.timeout)
            except Exception as error:
                loop.call_soon_threadsafe(loop.stop)
                raise DomainError("error.report.charts") from error
            self._loop = loop

    def png(self, figure: go.Figure, *, width: int, height: int, scale: float = 2) -> bytes:
        self.start()
        assert self._loop is not None
        opts = {"format": "png", "width": width, "height": height, "scale": scale}
        future = asyncio.run_coroutine_threadsafe(
            self._browser.calc_fig(figure.to_dict(), opts=opts), self._loop
        )
        try:
            return cast(bytes, future.result(self.timeout))
        except Exception as error:
            future.cancel()
            self.close()  # a crashed Chrome is started afresh by the next call
            raise DomainError("error.report.charts") from error

    def close(self) -> None:
        with self._lock:
            browser, loop = self._browser, self._loop
            self._browser = self._loop = None
        if browser is None or loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(browser.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)


_shared: ChartRenderer | None = None
_shared_lock = threading.Lock()


def shared_renderer() -> ChartRenderer:
    """The process's renderer (Chrome starts on the first image, stops at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ChartRenderer()
            atexit.register(_shared.close)
        return _shared


def chart_images(
    engine: Engine,
    workshop_id: int,
    lang: str,
    *,
    progress: Progress | None = None,
    renderer: ChartRenderer | None = None,
) -> dict[str, bytes]:
    """PNG images of the report's figures, keyed as CHARTS.

    Raises DomainError("error.report.charts") when Chrome is missing or fails; callers
    that can do without charts pass `charts=False` to `export` (nothing falls back
    silently).
    """
    figures = report_figures(engine, workshop_id, lang)
    renderer = renderer or shared_renderer()
    images = {}
    for n, (key, figure) in enumerate(figures.items()):
        message = i18n.t(lang, "report.progress.charts", done=n, total=len(figures))
        _step(progress, n / len(figures), message)
        height = int(figure.layout.height or 480)
        images[key] = renderer.png(figure, width=CHART_WIDTH_PX, height=height)
    _step(
        progress, 1.0, i18n.t(lang, "report.progress.charts", done=len(figures), total=len(figures))
    )
    return images


def _charts_in_order(images: Mapping[str, bytes] | None) -> list[tuple[str, bytes]]:
    images = images or {}
    known = [(key, images[key]) for key in CHARTS if key in images]
    return known + [(key, png) for key, png in images.items() if key not in CHARTS]


def _caption(key: str, number: int, lang: str) -> str:
    title = i18n.t(lang, CHARTS[key]) if key in CHARTS else key
    return i18n.t(lang, "report.figure", number=number, title=title)


# --- DOCX ---------------------------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_THEME_FONT_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
_GREY = RGBColor(0x40, 0x40, 0x40)


def _xml_safe(text: str) -> str:
    return _XML_INVALID.sub("", text)


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

    _step(progress, 0.0, t("report.progress.document"))
    doc = Document()
    _docx_styles(doc, lang)
    _docx_page(doc, report)
    properties = doc.core_properties
    properties.title = report.title
    properties.author = properties.last_modified_by = "Roundtable"
    properties.language = "th-TH" if lang == "th" else "en-US"
    properties.created = properties.modified = report.generated_at.replace(tzinfo=None)

    centre = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, t("report.title"), size=20, bold=True, align=centre)
    _para(doc, report.title, size=18, bold=True, align=centre)
    _para(doc, _dates_line(report), align=centre)
    if report.venue:
        _para(doc, t("report.venue", venue=report.venue), align=centre)
    _para(doc)

    number = 1
    _heading(doc, _section_title(number, "report.summary", lang), 1)
    _para(doc, _summary_line(report)).paragraph_format.first_line_indent = Cm(1.25)
    rows = [[name, str(count)] for name, count in report.by_domain]
    rows.append([t("report.total"), str(sum(count for _, count in report.by_domain))])
    _docx_table(
        doc, [t("report.domain"), t("report.issues")], rows, [9.0, 4.0], numeric=[1], bold_last=True
    )
    _step(progress, 0.15, t("report.progress.document"))

    pictures = _charts_in_order(images)
    if pictures:
        number += 1
        _heading(doc, _section_title(number, "report.charts", lang), 1)
        for n, (key, png) in enumerate(pictures, start=1):
            doc.add_picture(io.BytesIO(png), width=Cm(16))
            doc.paragraphs[-1].alignment = centre
            doc.paragraphs[-1].paragraph_format.keep_with_next = True
            _para(doc, _caption(key, n, lang), style="Caption", size=14, align=centre)
    _step(progress, 0.35, t("report.progress.document"))

    number += 1
    _heading(doc, _section_title(number, "report.themes", lang), 1)
    _para(doc, t("report.themes_note"), size=14, color=_GREY)
    if not report.themes:
        _para(doc, t("report.no_themes"))
    for theme in report.themes:
        _heading(doc, _theme_heading(theme, lang), 2)
        _para(doc, _theme_numbers(theme, lang), size=14, color=_GREY)
        if theme.description:
            _para(doc, theme.description)
        _para(doc, t("report.theme_issues", count=len(theme.issues)), bold=True)
        for issue in theme.issues:
            paragraph = _para(doc, issue.statement, style="List Bullet")
            _run(paragraph, f" ({issue.group})", size=14, color=_GREY)
        _para(doc, _raised_by(theme, lang), size=14)
    _step(progress, 0.6, t("report.progress.document"))

    number += 1
    _heading(doc, _section_title(number, "report.recommendations", lang), 1)
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
    _step(progress, 0.75, t("report.progress.document"))

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
                for line in _issue_details(issue, lang):
                    detail = _para(doc, line, size=14, indent_cm=1.27, color=_GREY)
                    detail.paragraph_format.space_after = Pt(0)
    buffer = io.BytesIO()
    doc.save(buffer)
    _step(progress, 1.0, t("report.progress.done"))
    return buffer.getvalue()


# --- PDF ----------------------------------------------------------------------------------


def _pdf_text(text: str) -> str:
    """SARA AM as NIKHAHIT + SARA AA, as HarfBuzz would draw it (see module docstring)."""
    return text.replace("\u0e33", "\u0e4d\u0e32")


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
        self.set_x(self.l_margin + indent)
        self.multi_cell(
            width,
            self.line_height(size),
            self.wrap(text, width, keep),
            align=align,
            new_x="LMARGIN",
            new_y="NEXT",
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

    def picture(self, png: bytes, caption: str) -> None:
        pixels_wide, pixels_high = struct.unpack(">II", png[16:24])  # the PNG's IHDR
        width = self.epw
        height = width * pixels_high / pixels_wide
        caption_height = self.line_height(10) + 4
        if not self.fits(height + caption_height):
            self.add_page()
        self.image(io.BytesIO(png), x=self.l_margin, y=self.get_y(), w=width, h=height)
        self.set_y(self.get_y() + height + 1)
        self.text_block(caption, size=10.5, align="C", after=4, grey=True)

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

    _step(progress, 0.0, t("report.progress.document"))
    pdf = _ReportPDF(report)
    pdf.add_page()

    pdf.ln(4)
    pdf.text_block(t("report.title"), size=18, bold=True, align="C", after=2)
    pdf.text_block(report.title, size=15, bold=True, align="C", after=2)
    pdf.text_block(_dates_line(report), size=PDF_BODY_PT, align="C", after=0.5)
    if report.venue:
        pdf.text_block(t("report.venue", venue=report.venue), align="C", after=0.5)
    pdf.ln(3)
    pdf.rule()

    body = pdf.line_height(PDF_BODY_PT)
    number = 1
    pdf.heading(_section_title(number, "report.summary", lang), 0)
    pdf.text_block(_summary_line(report), after=3)
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
    _step(progress, 0.15, t("report.progress.document"))

    pictures = _charts_in_order(images)
    if pictures:
        number += 1
        pdf.heading(_section_title(number, "report.charts", lang), 0)
        for n, (key, png) in enumerate(pictures, start=1):
            pdf.picture(png, _caption(key, n, lang))
    _step(progress, 0.45, t("report.progress.document"))

    number += 1
    note = 2 * pdf.line_height(10.5)
    pdf.heading(
        _section_title(number, "report.themes", lang),
        0,
        keep=note + pdf.heading_height(1) + 3 * body,
    )
    pdf.text_block(t("report.themes_note"), size=10.5, grey=True, after=2)
    if not report.themes:
        pdf.text_block(t("report.no_themes"))
    for theme in report.themes:
        pdf.heading(_theme_heading(theme, lang), 1, keep=3 * body)
        pdf.text_block(
            _theme_numbers(theme, lang),
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
        pdf.text_block(_raised_by(theme, lang), size=10.5, after=2, keep=theme.raised_by)
    _step(progress, 0.65, t("report.progress.document"))

    number += 1
    pdf.heading(
        _section_title(number, "report.recommendations", lang),
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
    _step(progress, 0.8, t("report.progress.document"))

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
                for line in _issue_details(issue, lang):
                    pdf.text_block(line, size=10.5, indent=7, after=0.3, grey=True)
                pdf.ln(1)
    data = bytes(pdf.output())
    _step(progress, 1.0, t("report.progress.done"))
    return data


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
    _step(progress, 0.0, i18n.t(lang, "report.progress.collect"))
    report = collect(engine, workshop_id, lang)
    images = (
        chart_images(engine, workshop_id, lang, progress=_part(progress, 0.05, 0.5))
        if charts
        else {}
    )
    build = to_docx if fmt == "docx" else to_pdf
    return build(report, images, progress=_part(progress, 0.5, 1.0))
