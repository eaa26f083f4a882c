"""Issues in and out of spreadsheets: CSV/XLSX import (all rows or none) and CSV export.

Organizers bring issues typed before the workshop, or collected on paper, in whatever
their spreadsheet saved; the export uses the same column names so it re-imports.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import audit, db, embeddings, i18n, recommendations, text, votes
from models.errors import DomainError, NotFound
from models.issues import IssueFields, IssueInput, validate
from models.schema import (
    BreakoutGroup,
    Domain,
    Issue,
    Level,
    RecommendationStatus,
    Theme,
    Workshop,
)

REQUIRED = ("group", "domain", "text")
OPTIONAL = ("cause", "impact", "affected", "fix")
COLUMNS = REQUIRED + OPTIONAL
# The facilitation's results ride along (theme, its votes, its accepted recommendations);
# import ignores them, so an export still re-imports.
EXPORT_COLUMNS = (
    "id",
    *REQUIRED,
    *OPTIONAL,
    "theme",
    "theme_votes",
    "recommendations",
    "created_at",
)

# Headers a Thai organizer is likely to have typed, tried after our own column name.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "group": ("กลุ่ม",),
    "domain": ("ด้าน",),
    "text": ("statement", "ประเด็นปัญหา"),
    "cause": ("สาเหตุ",),
    "impact": ("ผลกระทบ",),
    "affected": ("ผู้ได้รับผลกระทบ",),
    "fix": ("แนวทางแก้ไข", "แนวทางแก้ไขที่เสนอ"),
}

# Which import column a validation error's `field` value points at.
_FIELD_COLUMN = {"statement": "text", "cause": "cause", "impact": "impact", "fix": "fix"}
_LIST_SEPARATOR = re.compile(r"[,;]")
_THAI_FALLBACK = "cp874"  # Windows Thai (a superset of TIS-620), what Thai Excel saves as CSV
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode Text" is UTF-16 with a BOM
# Limits on one import: a whole national event (245 offices × a few issues) fits easily,
# and a mistaken or hostile file is refused before it costs the server its memory.
MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
# An .xlsx is a zip: what it unpacks to, as its directory declares (and zipfile enforces).
MAX_XLSX_UNPACKED = 100 * 1024 * 1024
# Rows of a sheet read at most while looking for its last value (formatted blank rows).
MAX_XLSX_SCANNED = 20 * MAX_IMPORT_ROWS


@dataclass(frozen=True)
class ParsedRow:
    """One valid data row, ready to insert."""

    row: int
    group_id: int
    fields: IssueFields


@dataclass(frozen=True)
class RowError:
    """What is wrong with one cell. `row` counts as the spreadsheet does (header = 1).

    `column` is the header as it appears in the file, since that is what the user sees.
    """

    row: int
    column: str
    error: DomainError


class ImportRejected(DomainError):
    """Some rows are invalid, so nothing was imported; `.errors` lists every problem."""

    def __init__(self, errors: list[RowError]) -> None:
        rows = {e.row for e in errors}
        super().__init__("error.import.rows", count=len(rows))
        self.errors = errors


def row_error_text(lang: str, error: RowError) -> str:
    """`Row 5, text: Please fill in “Problem”.` in `lang`, for reports and the CLI."""
    message = i18n.error_message(lang, error.error)
    return f"{i18n.t(lang, 'data.row')} {error.row}, {error.column}: {message}"


# --- reading files ---------------------------------------------------------------------


def _key(value: object) -> str:
    """How names and headers are compared: NFC, surrounding whitespace stripped."""
    return unicodedata.normalize("NFC", str(value)).strip()


def _decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read in: UTF-8 (BOM or not), UTF-16 with a BOM, or
    Windows Thai when the bytes read as Thai; binary is refused.

    Windows Thai (cp874, a superset of TIS-620) is what Thai Excel saves as "CSV", so it is
    read, and the page says so. Any other 8-bit encoding (Latin-1, Windows-1252) also
    decodes as cp874 — into Thai letters where the accents were (`Café` → `Caf้`) — so
    the cp874 reading is kept only if it looks like Thai (`_reads_as_thai`); otherwise the
    file is refused, naming the first line that is not UTF-8, rather than guessed at.
    """
    if data.startswith(_UTF16_BOMS):
        decoded, encoding = _try(data, "utf-16"), "utf-16"
    else:
        decoded, encoding = _try(data, "utf-8-sig"), "utf-8"
        if decoded is None:
            decoded, encoding = _try(data, _THAI_FALLBACK), _THAI_FALLBACK
            if decoded is not None and not _reads_as_thai(decoded):
                raise DomainError("error.import.encoding_line", line=_first_non_utf8_line(data))
    # No text file holds NUL: this is binary, or UTF-16 that lost its BOM.
    if decoded is None or "\x00" in decoded:
        raise DomainError("error.import.encoding")
    return decoded, encoding


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


# A Thai vowel or tone mark sits on a Thai letter; one after a Latin letter is an accent
# read in the wrong encoding (é → ้). A lone Thai letter inside a Latin word (ï → ๏,
# ß → ฿) is the same slip.
_MISPLACED_MARK = re.compile(r"(?<![\u0e01-\u0e5b])[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")
_THAI_INSIDE_LATIN = re.compile(r"[A-Za-z][\u0e01-\u0e5b]{1,2}[A-Za-z]")


def _reads_as_thai(decoded: str) -> bool:
    """Whether text decoded as cp874 is plausibly Thai rather than another 8-bit encoding."""
    return not (_MISPLACED_MARK.search(decoded) or _THAI_INSIDE_LATIN.search(decoded))


def _first_non_utf8_line(data: bytes) -> int:
    for number, line in enumerate(data.split(b"\n"), 1):
        if _try(line, "utf-8") is None:
            return number
    return 1


def _separator(decoded: str) -> str:
    """A comma, unless the header is tab-separated (Excel's "Unicode Text" export)."""
    header = decoded.split("\n", 1)[0]
    return "\t" if "\t" in header and "," not in header else ","


def _check_xlsx(data: bytes) -> None:
    """Refuse a workbook that would unpack to more than MAX_XLSX_UNPACKED (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        return  # not a zip at all: openpyxl reports that in its own words
    if unpacked > MAX_XLSX_UNPACKED:
        raise DomainError("error.import.too_large", max=MAX_XLSX_UNPACKED // (1024 * 1024))


def _xlsx_rows(data: bytes) -> int:
    """How many rows after the header pandas must read: up to the last one with a value.

    A few hundred KB of repeated XML can hold a million rows (1.4 M cost pandas 90 s and
    800 MB before it could say "too many", and openpyxl reads a whole sheet that does not
    declare its size just to learn it). So the first sheet's XML is streamed here, one row
    in memory at a time, and refused as soon as the rows with a value pass MAX_IMPORT_ROWS
    (saying how many the sheet declares, if it does). Blank rows after the last value
    (Excel writes formatted empty cells) are read past, up to MAX_XLSX_SCANNED rows.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        sheet = _first_sheet(archive)
    except (zipfile.BadZipFile, KeyError, ValueError, StopIteration, ElementTree.ParseError):
        return MAX_IMPORT_ROWS  # not a workbook we can stream: openpyxl reports it its way
    declared = last = index = 0
    with archive, archive.open(sheet) as source:
        # expat (2.4+) refuses entity-expansion bombs; ElementTree resolves no external entity.
        root = None
        for event, element in ElementTree.iterparse(source, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if event == "start":
                root = element if root is None else root
                if tag == "dimension":
                    declared = _dimension_rows(element.get("ref", "")) - 1
                continue
            if tag != "row":
                continue
            number = element.get("r")
            index = int(number) - 1 if number and number.isdigit() else index + 1
            if any((e.text or "").strip() for e in element.iter() if e is not element):
                last = index
            if last > MAX_IMPORT_ROWS or index > MAX_XLSX_SCANNED:
                if declared > MAX_IMPORT_ROWS:
                    raise DomainError(
                        "error.import.too_many_rows", count=declared, max=MAX_IMPORT_ROWS
                    )
                raise DomainError("error.import.too_many_rows_over", max=MAX_IMPORT_ROWS)
            root.clear()  # type: ignore[union-attr]  # rows read so far: not kept
    return last


def _first_sheet(archive: zipfile.ZipFile) -> str:
    """The zip path of the workbook's first sheet (the one pandas reads)."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    first = next(e for e in book.iter() if e.tag.rpartition("}")[2] == "sheet")
    rel = next(v for k, v in first.attrib.items() if k.rpartition("}")[2] == "id")
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next(e.get("Target", "") for e in rels if e.get("Id") == rel)
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _dimension_rows(ref: str) -> int:
    """The last row of a sheet's declared range ("A1:C1400001" → 1400001; "A1" → 1)."""
    digits = "".join(ch for ch in ref.rpartition(":")[2] if ch.isdigit())
    return int(digits) if digits else 0


def read_table(data: bytes, filename: str) -> pd.DataFrame:
    """The file's rows as strings, headers NFC-normalised; the format comes from the name.

    Blank rows are kept so that positions stay the spreadsheet's row numbers;
    `validate_import` skips them. A CSV read as Windows Thai says so in
    `df.attrs["encoding"]` ("cp874"), for the page to tell the organizer.
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise DomainError("error.import.format")
    if len(data) > MAX_IMPORT_BYTES:
        raise DomainError("error.import.too_large", max=MAX_IMPORT_BYTES // (1024 * 1024))
    options = {"dtype": str, "keep_default_na": False}
    encoding = "utf-8"
    try:
        if suffix == ".csv":
            decoded, encoding = _decode(data)
            df = pd.read_csv(io.StringIO(decoded), sep=_separator(decoded), **options)
        else:
            _check_xlsx(data)
            rows = _xlsx_rows(data)
            df = pd.read_excel(io.BytesIO(data), engine="openpyxl", nrows=rows, **options)
    except DomainError:
        raise
    except pd.errors.EmptyDataError as error:
        raise DomainError("error.import.empty") from error
    except Exception as error:  # pandas and openpyxl raise many kinds for a broken file
        detail = text.printable(str(error) or type(error).__name__, 200)
        raise DomainError("error.import.file", detail=detail) from error
    if not isinstance(df.index, pd.RangeIndex):
        # pandas reads a first row longer than the header as row labels, shifting every
        # cell one column over: refuse it rather than import the shifted cells.
        raise DomainError("error.import.extra_cells", row=2)
    df.columns = [_key(column) for column in df.columns]
    if len(df) > MAX_IMPORT_ROWS:
        raise DomainError("error.import.too_many_rows", count=len(df), max=MAX_IMPORT_ROWS)
    if not any(_nonblank(row) for row in df.itertuples(index=False)):
        raise DomainError("error.import.empty")
    df.attrs["encoding"] = encoding
    return df


def _cell(value: object) -> str:
    """A cell as text; a missing value (None/NaN from a DataFrame built in code) is empty."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _nonblank(values: Iterable[object]) -> bool:
    return any(_cell(value).strip() for value in values)


# --- validating ------------------------------------------------------------------------


def resolve_columns(
    headers: Iterable[str], mapping: Mapping[str, str] | None = None
) -> dict[str, str]:
    """{our column: the file's header} for every column found.

    An explicit mapping wins; otherwise our own name (any case), then a Thai alias.
    Raises `error.import.columns` for a missing required or explicitly mapped column.
    """
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(COLUMNS))
    if unknown:
        raise ValueError(f"unknown import columns in mapping: {unknown}")
    present = {_key(h).casefold(): h for h in headers}
    found: dict[str, str] = {}
    missing: list[str] = []
    for ours in COLUMNS:
        if ours in mapping:
            candidates: tuple[str, ...] = (mapping[ours],)
        else:
            candidates = (ours, *HEADER_ALIASES.get(ours, ()))
        keys = [_key(candidate).casefold() for candidate in candidates]
        header = next((present[k] for k in keys if k in present), None)
        if header is not None:
            found[ours] = header
        elif ours in REQUIRED or ours in mapping:
            missing.append(mapping.get(ours, ours))
    if missing:
        raise DomainError("error.import.columns", columns=", ".join(missing))
    return found


def _level_lookup() -> dict[str, str]:
    """Every spelling of a level a file may use (value or label, Thai or English) → value."""
    lookup = {level.value.casefold(): level.value for level in Level}
    for lang in i18n.LANGS:
        for value, label in i18n.choices(lang, "level").items():
            lookup[_key(label).casefold()] = value
    return lookup


def parse_affected(cell: str) -> list[str]:
    """Level values from a comma/semicolon list; unknown words are kept for validate() to name."""
    lookup = _level_lookup()
    words = [_key(word) for word in _LIST_SEPARATOR.split(cell)]
    return [lookup.get(word.casefold(), word) for word in words if word]


@dataclass(frozen=True)
class _Lookup:
    """The workshop's names as a file may spell them."""

    groups: dict[str, int]
    domains: dict[str, int]
    domains_en: dict[str, int]  # casefolded English names

    @classmethod
    def of(cls, groups: Iterable[BreakoutGroup], domains: Iterable[Domain]) -> _Lookup:
        domains = list(domains)
        return cls(
            groups={_key(g.name): g.id for g in groups if g.id is not None},
            domains={_key(d.name): d.id for d in domains if d.id is not None},
            domains_en={
                _key(d.name_en).casefold(): d.id for d in domains if d.name_en and d.id is not None
            },
        )

    def domain(self, name: str) -> int | None:
        # The Thai name wins over an English name that happens to be spelled the same.
        return self.domains.get(name) or self.domains_en.get(name.casefold())


def _parse_row(
    row: int, cells: dict[str, str], lookup: _Lookup
) -> tuple[ParsedRow | None, list[tuple[str, DomainError]]]:
    """One row checked: the parsed row, or the (our column, error) pairs found in it."""
    errors: list[tuple[str, DomainError]] = []
    group_name = _key(cells["group"])
    group_id = lookup.groups.get(group_name)
    if not group_name:
        errors.append(("group", DomainError("error.text.required", field="group")))
    elif group_id is None:
        errors.append(
            ("group", DomainError("error.import.group", value=text.printable(group_name)))
        )
    domain_name = _key(cells["domain"])
    domain_id = lookup.domain(domain_name)
    if not domain_name:
        errors.append(("domain", DomainError("error.text.required", field="domain")))
    elif domain_id is None:
        errors.append(
            ("domain", DomainError("error.import.domain", value=text.printable(domain_name)))
        )
    try:
        # The entry form's own validation, so imported text obeys exactly the same rules.
        fields = validate(
            IssueInput(
                domain_id=domain_id or 0,
                statement=cells["text"],
                cause=cells.get("cause", ""),
                impact=cells.get("impact", ""),
                affected=parse_affected(cells.get("affected", "")),
                fix=cells.get("fix", ""),
            )
        )
    except DomainError as error:
        errors.append((_FIELD_COLUMN.get(error.values.get("field", ""), "affected"), error))
    if errors or group_id is None:
        return None, errors
    return ParsedRow(row, group_id, fields), []


def parse_rows(
    df: pd.DataFrame,
    *,
    groups: Iterable[BreakoutGroup],
    domains: Iterable[Domain],
    mapping: Mapping[str, str] | None = None,
) -> tuple[list[ParsedRow], list[RowError]]:
    """Check every non-blank row against the workshop's groups, domains and text rules."""
    columns = resolve_columns(df.columns, mapping)
    lookup = _Lookup.of(groups, domains)
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    first_row: dict[tuple[object, ...], int] = {}  # a row's content → where it first appeared
    for position, record in enumerate(df.to_dict("records")):
        if not _nonblank(record.values()):
            continue
        row = position + 2  # the header is row 1
        cells = {ours: _cell(record[header]) for ours, header in columns.items()}
        ok, problems = _parse_row(row, cells, lookup)
        if ok is not None:
            # A row pasted twice is a slip, not two issues: name it rather than store it twice.
            same = first_row.setdefault((ok.group_id, *ok.fields.__dict__.values()), row)
            if same != row:
                problems = [("text", DomainError("error.import.duplicate_row", row=same))]
            else:
                parsed.append(ok)
        errors.extend(RowError(row, columns[ours], error) for ours, error in problems)
    return parsed, errors


def _workshop_parts(session: Session, workshop_id: int) -> tuple[list[BreakoutGroup], list[Domain]]:
    if session.get(Workshop, workshop_id) is None:
        raise NotFound("workshop")
    groups = session.exec(select(BreakoutGroup).where(BreakoutGroup.workshop_id == workshop_id))
    domains = session.exec(select(Domain).where(Domain.workshop_id == workshop_id))
    return list(groups), list(domains)


def validate_import(
    engine: Engine,
    workshop_id: int,
    df: pd.DataFrame,
    mapping: dict[str, str] | None = None,
) -> tuple[list[ParsedRow], list[RowError]]:
    """A dry run: the rows that would be imported and every row error, nothing written.

    `mapping` maps our column names to the file's headers (identity by default).
    """
    with db.read(engine) as session:
        groups, domains = _workshop_parts(session, workshop_id)
    return parse_rows(df, groups=groups, domains=domains, mapping=mapping)


def _vectors(
    engine: Engine, workshop_id: int, df: pd.DataFrame, mapping: dict[str, str] | None
) -> dict[str, bytes | None]:
    """Sentence vectors for the rows' statements, in one batch, before the write locks the DB."""
    try:
        parsed, _ = validate_import(engine, workshop_id, df, mapping)
    except DomainError:
        return {}  # import_issues reports the same error from inside its transaction
    statements = list(dict.fromkeys(p.fields.statement for p in parsed))
    return dict(zip(statements, embeddings.vectors_for(statements), strict=True))


def import_issues(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    df: pd.DataFrame,
    mapping: dict[str, str] | None = None,
) -> int:
    """Insert every row in one transaction with one audit event, or nothing at all.

    Allowed in any phase: importing is the organizer's action, not a group's entry,
    so the phase rules that close the entry form do not apply. Raises ImportRejected
    (carrying every row error) when any row is invalid. Returns the number imported.
    """
    vectors = _vectors(engine, workshop_id, df, mapping)
    with db.write(engine) as session:
        # Validated inside the write so a group removed meanwhile cannot slip through.
        groups, domains = _workshop_parts(session, workshop_id)
        parsed, errors = parse_rows(df, groups=groups, domains=domains, mapping=mapping)
        if errors:
            raise ImportRejected(errors)
        if not parsed:
            raise DomainError("error.import.empty")
        rows = [
            Issue(
                workshop_id=workshop_id,
                group_id=p.group_id,
                vector=vectors.get(p.fields.statement),
                **p.fields.__dict__,
            )
            for p in parsed
        ]
        session.add_all(rows)
        session.flush()
        ids = [issue.id for issue in rows]
        audit.record(
            session,
            actor=actor,
            action="issue.import",
            workshop_id=workshop_id,
            entity="issue",
            after={"count": len(ids), "ids": ids},
        )
    return len(ids)


# --- exporting -------------------------------------------------------------------------


def _iso(value: dt.datetime) -> str:
    # SQLite hands datetimes back naive; they were stored as UTC.
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def export_issues_csv(engine: Engine, workshop_id: int) -> bytes:
    """Live issues as UTF-8 CSV with a BOM (so Excel reads Thai), formulas neutralised."""
    with db.read(engine) as session:
        groups, domains = _workshop_parts(session, workshop_id)
        found = session.exec(
            select(Issue)
            .where(Issue.workshop_id == workshop_id, col(Issue.deleted_at).is_(None))
            .order_by(col(Issue.id))
        )
        issues = list(found)
        theme_titles = {
            t.id: t.title
            for t in session.exec(
                select(Theme).where(
                    Theme.workshop_id == workshop_id, col(Theme.deleted_at).is_(None)
                )
            )
        }
    totals = votes.vote_totals(engine, workshop_id)
    advice = {
        theme_id: " | ".join(
            f"{level}: {rec.text}" for level, recs in levels.items() for rec in recs
        )
        for theme_id, levels in recommendations.by_theme_and_level(
            engine, workshop_id, statuses=[RecommendationStatus.ACCEPTED]
        ).items()
    }
    group_names = {g.id: g.name for g in groups}
    domain_names = {d.id: d.name for d in domains}
    records = [
        {
            "id": issue.id,
            "group": group_names.get(issue.group_id, ""),
            "domain": domain_names.get(issue.domain_id, ""),
            "text": issue.statement,
            "cause": issue.cause,
            "impact": issue.impact,
            "affected": issue.affected,
            "fix": issue.fix,
            "theme": theme_titles.get(issue.theme_id, ""),  # type: ignore[arg-type]
            "theme_votes": totals.get(issue.theme_id, 0) if issue.theme_id in theme_titles else "",  # type: ignore[arg-type]
            "recommendations": advice.get(issue.theme_id, "") if issue.theme_id else "",  # type: ignore[arg-type]
            "created_at": _iso(issue.created_at),
        }
        for issue in issues
    ]
    df = pd.DataFrame(records, columns=list(EXPORT_COLUMNS))
    df = df.map(text.neutralize_formula)
    return df.to_csv(index=False).encode("utf-8-sig")
