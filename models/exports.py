"""What organizers take home: result tables (CSV zip, XLSX), and every file format on offer.

The tables are the ministry's view (live issues, ranked themes, recommendations), with
headers in the reader's language. The JSON backup lives in models/backup.py.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models import backup, db, i18n, io_issues, ranking, recommendations, report, stats, themes
from models.schema import (
    Domain,
    Level,
    Score,
    Vote,
    Workshop,
)
from models.text import neutralize_formula
from models.xmltext import xml_safe

SHEETS = ("Issues", "Themes", "Votes", "Scores", "Recommendations", "Summary")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WIDTH = 60  # characters; longer cells wrap
_FACILITATOR = "facilitator"
# Header keys (section [export] of the catalogues), in column order.
ISSUE_COLUMNS = (
    "number",
    "group",
    "domain",
    "statement",
    "cause",
    "impact",
    "affected",
    "fix",
    "theme",
    "duplicate_of",
    "hidden_reason",
    "created",
)
THEME_COLUMNS = (
    "rank",
    "title",
    "description",
    "issues",
    "raised_by",
    "votes",
    "mean_impact",
    "mean_feasibility",
)
RECOMMENDATION_COLUMNS = (
    "theme",
    "level",
    "recommendation",
    "owner",
    "timeframe",
    "priority",
    "status",
    "proposed_by",
)


# --- result tables ---------------------------------------------------------------------


def _headers(lang: str, *keys: str) -> list[str]:
    return [i18n.t(lang, f"export.{key}") for key in keys]


def _frame(lang: str, keys: tuple[str, ...], rows: Iterable[list[Any]]) -> pd.DataFrame:
    # object dtype: a nullable number stays `12` (not `12.0`) and a missing one stays empty.
    return pd.DataFrame(list(rows), columns=_headers(lang, *keys), dtype=object)


def _local_time(value: dt.datetime) -> dt.datetime:
    """The organizer's wall-clock time, naive, to the second (what a spreadsheet can hold)."""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone().replace(tzinfo=None, microsecond=0)


def _domain_label(domain: Domain, lang: str) -> str:
    return domain.name_en if lang == "en" and domain.name_en else domain.name


def _mean(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def export_tables(engine: Engine, workshop_id: int, lang: str) -> dict[str, pd.DataFrame]:
    """The workshop's results as tables named by SHEETS, headers in `lang`.

    Soft-deleted issues are left out; hidden ones stay, with their reason. Themes,
    votes, scores and recommendations are those of live themes, in ranking order.
    """
    board = themes.board(engine, workshop_id)
    ranked = ranking.rank(engine, workshop_id)
    with db.read(engine) as session:
        domains = list(
            session.exec(
                select(Domain)
                .where(Domain.workshop_id == workshop_id)
                .order_by(col(Domain.position), col(Domain.id))
            )
        )
        found_votes = list(
            session.exec(select(Vote).where(Vote.workshop_id == workshop_id, Vote.count > 0))
        )
        found_scores = list(session.exec(select(Score).where(Score.workshop_id == workshop_id)))
    groups = {gid: g.name for gid, g in board.groups.items()}
    group_order = {gid: n for n, gid in enumerate(board.groups)}
    theme_order = {r.theme.id: n for n, r in enumerate(ranked)}
    titles = {r.theme.id: r.theme.title for r in ranked}
    domain_names = {d.id: _domain_label(d, lang) for d in domains}
    levels = i18n.choices(lang, "level")

    issues = sorted(
        [*(i for view in board.themes for i in view.issues), *board.ungrouped, *board.hidden],
        key=lambda issue: issue.id or 0,
    )
    issue_rows = [
        [
            issue.id,
            groups.get(issue.group_id, ""),
            domain_names.get(issue.domain_id, ""),
            issue.statement,
            issue.cause,
            issue.impact,
            ", ".join(levels.get(v, v) for v in issue.affected.split(",") if v),
            issue.fix,
            titles.get(issue.theme_id, "") if issue.theme_id else "",
            issue.duplicate_of_id,
            issue.hidden_reason or "",
            _local_time(issue.created_at),
        ]
        for issue in issues
    ]
    theme_rows = [
        [
            r.rank,
            r.theme.title,
            r.theme.description,
            r.issue_count,
            i18n.t(lang, "export.raised_of", count=r.group_count, total=r.group_total),
            r.votes,
            _mean(r.impact),
            _mean(r.feasibility),
        ]
        for r in ranked
    ]
    live_votes = sorted(
        (v for v in found_votes if v.theme_id in theme_order),
        key=lambda v: (group_order.get(v.group_id, 0), theme_order[v.theme_id]),
    )
    vote_rows = [[groups.get(v.group_id, ""), titles[v.theme_id], v.count] for v in live_votes]

    def scorer(value: str) -> tuple[int, str]:
        if value == _FACILITATOR:
            return -1, i18n.t(lang, "role.facilitator")
        group_id = int(value.split(":", 1)[1]) if value.startswith("group:") else 0
        return group_order.get(group_id, len(groups)), groups.get(group_id, value)

    live_scores = sorted(
        (s for s in found_scores if s.theme_id in theme_order),
        key=lambda s: (theme_order[s.theme_id], scorer(s.scorer)[0]),
    )
    score_rows = [
        [scorer(s.scorer)[1], titles[s.theme_id], s.impact, s.feasibility] for s in live_scores
    ]
    level_order = {level.value: n for n, level in enumerate(Level)}
    recs = sorted(
        (r for r in recommendations.for_workshop(engine, workshop_id) if r.theme_id in theme_order),
        key=lambda r: (theme_order[r.theme_id], level_order.get(r.level, 9), r.priority, r.id),
    )
    rec_rows = [
        [
            titles[r.theme_id],
            levels.get(r.level, r.level),
            r.text,
            r.owner,
            r.timeframe,
            i18n.t(lang, f"recommend.priority.{r.priority}"),
            i18n.t(lang, f"recommend.status.{r.status}"),
            groups.get(r.proposed_by_group_id, "") if r.proposed_by_group_id else "",
        ]
        for r in recs
    ]
    return {
        "Issues": _frame(lang, ISSUE_COLUMNS, issue_rows),
        "Themes": _frame(lang, THEME_COLUMNS, theme_rows),
        "Votes": _frame(lang, ("group", "theme", "votes"), vote_rows),
        "Scores": _frame(
            lang, ("scorer", "theme", "score_impact", "score_feasibility"), score_rows
        ),
        "Recommendations": _frame(lang, RECOMMENDATION_COLUMNS, rec_rows),
        "Summary": _summary(engine, workshop_id, lang),
    }


def _summary(engine: Engine, workshop_id: int, lang: str) -> pd.DataFrame:
    """Issues per group × domain, with a total column and a total row."""
    found = stats.summary(engine, workshop_id)
    total = i18n.t(lang, "export.total")
    header = [i18n.t(lang, "export.group")]
    header += [found.domain_label(d, lang) for d in found.domains] + [total]
    rows = []
    for name, counts in zip(found.counts.index, found.counts.to_numpy(), strict=True):
        values = [int(n) for n in counts]
        rows.append([name, *values, sum(values)])
    sums = [int(n) for n in found.counts.sum(axis=0)] if found.domains else []
    rows.append([total, *sums, sum(sums)])
    return pd.DataFrame(rows, columns=header, dtype=object)


# --- spreadsheet files -----------------------------------------------------------------


def _present(value: Any) -> Any:
    """A cell's value for a file: None for missing, formula-looking text neutralised."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return neutralize_formula(value)


def _safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    # Built cell by cell: DataFrame.map would turn a column of ints and blanks into floats.
    rows = [[_present(v) for v in record] for record in df.itertuples(index=False)]
    columns = [str(neutralize_formula(str(c))) for c in df.columns]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def to_csv_zip(tables: dict[str, pd.DataFrame]) -> bytes:
    """One UTF-8 CSV with a BOM per table (`issues.csv`, …), zipped; same bytes for same tables."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, df in tables.items():
            info = zipfile.ZipInfo(f"{name.lower()}.csv", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _safe_frame(df).to_csv(index=False).encode("utf-8-sig"))
    return buffer.getvalue()


def _display(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return "" if value is None else str(value)


def _width(values: Iterable[Any]) -> int:
    """Characters of the longest line (a Thai character counts as one), capped."""
    longest = max((len(line) for v in values for line in _display(v).split("\n")), default=0)
    return min(MAX_WIDTH, max(8, longest + 2))


def to_xlsx(tables: dict[str, pd.DataFrame], *, title: str) -> bytes:
    """One sheet per table: bold frozen header row, autofilter, widths fitted to content.

    Sheet names stay English (SHEETS) so formulas and macros that refer to them work in
    any language; the headers inside follow the tables' language. Every text cell is
    stored as a string, and text a spreadsheet would run as a formula is neutralised.
    """
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    workbook.properties.title = xml_safe(title)
    workbook.properties.creator = "Roundtable"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE5F0")
    wrap = Alignment(wrap_text=True, vertical="top")
    for name, df in tables.items():
        sheet = workbook.create_sheet(name[:31])
        safe = _safe_frame(df)
        sheet.append(list(safe.columns))
        for cell in sheet[1]:
            cell.font, cell.fill = bold, fill
        for record in safe.itertuples(index=False):
            # XLSX is XML: a noncharacter such as U+FFFF would refuse the whole file.
            sheet.append([xml_safe(v) if isinstance(v, str) else v for v in record])
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                    if len(cell.value) > MAX_WIDTH or "\n" in cell.value:
                        cell.alignment = wrap
                elif isinstance(cell.value, float):
                    cell.number_format = "0.00"
                elif isinstance(cell.value, dt.datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
        for index, header in enumerate(safe.columns, start=1):
            cells = [header, *safe.iloc[:, index - 1]]
            sheet.column_dimensions[get_column_letter(index)].width = _width(cells)
        sheet.freeze_panes = "A2"
        last = get_column_letter(max(1, len(safe.columns)))
        sheet.auto_filter.ref = f"A1:{last}{len(safe) + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- files by format (the page and the CLI offer these) --------------------------------


class ExportFormat(NamedTuple):
    build: Callable[[Engine, Workshop, str], bytes]  # (engine, workshop, lang) → file bytes
    suffix: str  # appended to the workshop's slug to name the file
    mime: str


def _issues_csv(engine: Engine, workshop: Workshop, lang: str) -> bytes:
    return io_issues.export_issues_csv(engine, workshop.id)  # type: ignore[arg-type]


def _tables_zip(engine: Engine, workshop: Workshop, lang: str) -> bytes:
    return to_csv_zip(export_tables(engine, workshop.id, lang))  # type: ignore[arg-type]


def _workbook(engine: Engine, workshop: Workshop, lang: str) -> bytes:
    return to_xlsx(export_tables(engine, workshop.id, lang), title=workshop.title)  # type: ignore[arg-type]


def _backup_file(engine: Engine, workshop: Workshop, lang: str) -> bytes:
    return backup.backup_json(engine, workshop.id)  # type: ignore[arg-type]


def _report_builder(fmt: str) -> Callable[[Engine, Workshop, str], bytes]:
    def build(engine: Engine, workshop: Workshop, lang: str) -> bytes:
        return report.export(engine, workshop.id, lang, fmt)  # type: ignore[arg-type]

    return build


# Add a format here and both the page and the CLI offer it.
FORMATS: dict[str, ExportFormat] = {
    "csv": ExportFormat(_issues_csv, "-issues.csv", "text/csv"),
    "zip": ExportFormat(_tables_zip, "-tables.zip", "application/zip"),
    "xlsx": ExportFormat(_workbook, ".xlsx", XLSX_MIME),
    "json": ExportFormat(_backup_file, "-backup.json", "application/json"),
    "docx": ExportFormat(_report_builder("docx"), "-report.docx", report.MIME["docx"]),
    "pdf": ExportFormat(_report_builder("pdf"), "-report.pdf", report.MIME["pdf"]),
}
# Built with a progress bar on the page (charts are drawn by a browser: seconds, not ms).
SLOW_FORMATS = frozenset({"docx", "pdf"})


def file_name(workshop: Workshop, fmt: str) -> str:
    return f"{workshop.slug}{FORMATS[fmt].suffix}"
