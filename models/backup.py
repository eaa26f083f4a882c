"""A one-workshop backup as JSON, and its all-or-nothing restore into any database.

The backup is the whole workshop, history included; restoring it and backing up again
gives the same bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, LargeBinary, String, func, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import Column, UniqueConstraint
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import Session, SQLModel, col, select

from models import audit, db, embeddings, recommendations, themes, workshops
from models.access import CODE_ALPHABET, CODE_LENGTH, new_code
from models.errors import DomainError, NotFound
from models.issues import IssueInput
from models.issues import validate as validate_issue
from models.schema import (
    AuditEvent,
    BreakoutGroup,
    Domain,
    Issue,
    Level,
    Phase,
    Recommendation,
    RecommendationStatus,
    Score,
    Theme,
    Vote,
    Workshop,
)
from models.text import clean as clean_text
from models.text import problem as text_problem
from models.votes import STAFF_SCORER
from models.votes import _check_range as check_score
from models.workshops import SLUG, WorkshopInput

# --- backup ----------------------------------------------------------------------------
#
# Ids. A backup numbers each table's rows 1, 2, … in database order; ids that only the
# audit history still names (a removed group, a deleted recommendation) come after them.
# Every reference, including those inside audit change sets, uses these numbers. A
# restore reserves fresh ids for all of them in the same order, so relations survive,
# undo acts on the restored rows only, and backing the result up gives the same bytes.
#
# Codes. Join and view codes are kept, so printed links and QR codes go on working,
# unless the database already uses one (a copy restored beside its original): that
# code is replaced with a new one.


def _table(model: type[SQLModel]) -> str:
    return str(model.__tablename__)


FORMAT = "roundtable-backup"
FORMAT_VERSION = 1
MAX_BACKUP_BYTES = 200 * 1024 * 1024
MAX_GHOSTS = 100_000
# Longer than anything a form accepts (a recommendation: 4,000), for columns with no limit.
MAX_TEXT = 10_000
RESTORE_ACTION = "workshop.restore"
# Backup sections in restore order (parents first); each row belongs to the workshop.
SECTIONS: dict[str, type[SQLModel]] = {
    "groups": BreakoutGroup,
    "domains": Domain,
    "themes": Theme,
    "issues": Issue,
    "votes": Vote,
    "scores": Score,
    "recommendations": Recommendation,
    "audit_events": AuditEvent,
}
_ALL: list[type[SQLModel]] = [Workshop, *SECTIONS.values()]
_MODELS = {_table(m): m for m in _ALL}
_ENTITY_TABLES = {"group": "breakout_group"}  # audit entities named unlike their table
_LEVELS = {v.value for v in Level}
_CHOICES: dict[tuple[str, str], set[str]] = {
    ("workshop", "phase"): {p.value for p in Phase},
    ("recommendation", "level"): _LEVELS,
    ("recommendation", "status"): {s.value for s in RecommendationStatus},
}
_RANGES = {
    ("score", "impact"): (1, 5),
    ("score", "feasibility"): (1, 5),
    ("recommendation", "priority"): (1, 3),
    ("vote", "count"): (0, 10_000),
}
_INT_RANGE = (-(2**31), 2**31 - 1)
_UNSAFE_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_GROUP_REF = re.compile(r"group:([0-9]{1,12})")
_ROW_KEY = re.compile(r"([a-z_]{1,40}):([0-9]{1,12})")
# What models.access.new_code makes, and so all a join or view link can hold: an empty
# or one-letter code would let a bare "Join" (or a guess) into the group.
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")

Ref = Callable[[str, int], int]  # (table, id) → id in the other numbering


def _columns(model: type[SQLModel]) -> list[Column[Any]]:
    """The columns a backup row carries: all but the workshop (implicit)."""
    table = model.__table__  # type: ignore[attr-defined]
    return [c for c in table.columns if c.name != "workshop_id"]


def _targets(model: type[SQLModel]) -> dict[str, str]:
    """{column: referenced table}, its workshop included (audit snapshots carry it)."""
    found = {}
    for column in model.__table__.columns:  # type: ignore[attr-defined]
        for key in column.foreign_keys:
            found[column.name] = str(key.column.table.name)
    return found


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _translate(model: type[SQLModel], fields: dict[str, Any], ref: Ref) -> dict[str, Any]:
    """A row (or a row's audit snapshot) with every id it holds passed through `ref`.

    Works on JSON-ready and on Python values alike: ids and payloads look the same in both.
    """
    out = dict(fields)
    table = _table(model)
    if _is_id(out.get("id")):
        out["id"] = ref(table, out["id"])
    for name, target in _targets(model).items():
        if _is_id(out.get(name)):
            out[name] = ref(target, out[name])
    if model is Score and isinstance(out.get("scorer"), str):
        out["scorer"] = _group_ref(out["scorer"], ref)
    if model is AuditEvent:
        if isinstance(out.get("actor"), str):
            out["actor"] = _group_ref(out["actor"], ref)
        entity = _entity_table(out.get("entity"))
        if entity and _is_id(out.get("entity_id")):
            out["entity_id"] = ref(entity, out["entity_id"])
        for side in ("before", "after"):
            out[side] = _payload(entity, out.get(side), ref)
    return out


def _group_ref(value: str, ref: Ref) -> str:
    match = _GROUP_REF.fullmatch(value)
    return f"group:{ref('breakout_group', int(match[1]))}" if match else value


def _entity_table(entity: Any) -> str | None:
    name = _ENTITY_TABLES.get(entity, entity) if isinstance(entity, str) else None
    return name if name in _MODELS else None


def _payload(table: str | None, value: Any, ref: Ref) -> Any:
    """An audit event's before/after with its ids translated.

    Understood shapes: a change set `{"rows": {"issue:12": {...} | None}}`; a snapshot of
    the event's entity (has "id"); lists of the entity's ids under "ids" or "order".
    Anything else is kept as it is.
    """
    if not isinstance(value, dict):
        return value
    out = dict(value)
    rows = value.get("rows")
    if isinstance(rows, dict):
        translated = {}
        for key, snapshot in rows.items():
            match = _ROW_KEY.fullmatch(key) if isinstance(key, str) else None
            if match and match[1] in _MODELS and int(match[2]) > 0:
                model = _MODELS[match[1]]
                key = f"{match[1]}:{ref(match[1], int(match[2]))}"
                if isinstance(snapshot, dict):
                    snapshot = _translate(model, snapshot, ref)
            translated[key] = snapshot
        out["rows"] = translated
    elif table is not None:
        if "id" in out:
            out = _translate(_MODELS[table], out, ref)
        for key in ("ids", "order"):
            if isinstance(out.get(key), list):
                out[key] = [ref(table, v) if _is_id(v) else v for v in out[key]]
    return out


class _Numbering:
    """Old id → new id per table: rows first, in order, then ids that only history names."""

    def __init__(self) -> None:
        self.ids: dict[str, dict[int, int]] = {}
        self.ghosts: dict[str, set[int]] = {}

    def rows(self, table: str, old_ids: Iterable[int], new_ids: Iterable[int]) -> None:
        self.ids.setdefault(table, {}).update(zip(old_ids, new_ids, strict=True))

    def collect(self, table: str, value: int) -> int:
        if value not in self.ids.get(table, {}):
            self.ghosts.setdefault(table, set()).add(value)
        return value

    def ghost_count(self) -> int:
        return sum(len(ids) for ids in self.ghosts.values())

    def place_ghosts(self, table: str, new_ids: Iterable[int]) -> None:
        self.rows(table, sorted(self.ghosts.get(table, ())), new_ids)

    def __call__(self, table: str, value: int) -> int:
        return self.ids[table][value]


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _dump(row: SQLModel) -> dict[str, Any]:
    return {c.name: _json_value(getattr(row, c.name)) for c in _columns(type(row))}


def _own_rows(session: Session, workshop_id: int) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for section, model in SECTIONS.items():
        query = select(model).where(model.workshop_id == workshop_id)  # type: ignore[attr-defined]
        rows = list(session.exec(query.order_by(col(model.id))))  # type: ignore[attr-defined]
        if model is AuditEvent:
            # A restore is this database's history, not the workshop's: backing a restored
            # workshop up again gives the bytes it was restored from.
            rows = [e for e in rows if e.action != RESTORE_ACTION]  # type: ignore[attr-defined]
        found[section] = rows
    return found


def backup_json(engine: Engine, workshop_id: int) -> bytes:
    """One workshop, complete (history, hidden and deleted rows, codes), as UTF-8 JSON.

    Ids are the backup's own: 1… per table in the database's order, then ids that only
    the history still names (rows since removed). Keys are sorted, so a restore into an
    empty database backs up to the very same bytes.
    """
    with db.read(engine) as session:
        workshop = session.get(Workshop, workshop_id)
        if workshop is None:
            raise NotFound("workshop")
        rows = _own_rows(session, workshop_id)
    numbering = _Numbering()
    numbering.rows("workshop", [workshop_id], [1])
    dumped = {s: [_dump(r) for r in found] for s, found in rows.items()}
    for section, found in dumped.items():
        table = _table(SECTIONS[section])
        numbering.rows(table, [r["id"] for r in found], range(1, len(found) + 1))
    for section, found in dumped.items():
        for row in found:
            _translate(SECTIONS[section], row, numbering.collect)
    for table, ghosts in numbering.ghosts.items():
        start = len(numbering.ids.get(table, {})) + 1
        numbering.place_ghosts(table, range(start, start + len(ghosts)))
    document: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION}
    workshop_fields = _dump(workshop)
    del workshop_fields["id"]
    document["workshop"] = workshop_fields
    for section, found in dumped.items():
        document[section] = [_translate(SECTIONS[section], r, numbering) for r in found]
    text_out = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)
    return (text_out + "\n").encode("utf-8")


# --- restore: reading and checking -----------------------------------------------------


def _structure(detail: str) -> DomainError:
    return DomainError("error.restore.structure", detail=detail)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("duplicate key")
    return found


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def _parse_document(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_BACKUP_BYTES:
        raise DomainError("error.restore.too_large", max=MAX_BACKUP_BYTES // (1024 * 1024))
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DomainError("error.restore.encoding") from error
    try:
        document = json.loads(
            decoded, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant
        )
    except (ValueError, RecursionError) as error:
        raise DomainError("error.restore.not_json") from error
    if _has_surrogate(document):
        # JSON may spell half a UTF-16 pair (\ud800); no database can store one.
        raise DomainError("error.restore.encoding")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DomainError("error.restore.format")
    version = document.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise DomainError("error.restore.version", version=str(version), supported=FORMAT_VERSION)
    expected = {"format", "version", "workshop", *SECTIONS}
    if set(document) != expected:
        odd = sorted(set(document) ^ expected)
        raise _structure(", ".join(odd))
    return document


def _has_surrogate(document: Any) -> bool:
    """Whether any key or string anywhere in the parsed document holds a lone surrogate."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _impl(column: Column[Any]) -> TypeEngine[Any]:
    kind = column.type
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


def _value(column: Column[Any], value: Any, where: str) -> Any:
    """One JSON value checked against its column and turned into the column's Python type."""
    kind = _impl(column)
    if value is None:
        if column.nullable:
            return None
        raise _structure(where)
    try:
        if isinstance(kind, Boolean):
            ok = isinstance(value, bool)
        elif isinstance(kind, Integer):
            ok = _is_int(value) and _INT_RANGE[0] <= value <= _INT_RANGE[1]
        elif isinstance(kind, String):
            # The forms' rules, so a hand-edited backup cannot store what typing cannot.
            value = unicodedata.normalize("NFC", value)
            ok = not _UNSAFE_TEXT.search(value) and text_problem(value) is None
            ok = ok and len(value) <= (kind.length or MAX_TEXT)
        elif isinstance(kind, DateTime):
            parsed = dt.datetime.fromisoformat(value)
            ok = parsed.tzinfo is not None
            value = parsed.astimezone(dt.UTC) if ok else value
        elif isinstance(kind, Date):
            value = dt.date.fromisoformat(value)
            ok = True
        elif isinstance(kind, LargeBinary):
            value = base64.b64decode(value.encode("ascii"), validate=True)
            ok = True
        elif isinstance(kind, JSON):
            ok = isinstance(value, dict)
        else:  # a column type this version does not know how to restore
            ok = False
    except (TypeError, ValueError, AttributeError, UnicodeEncodeError):
        ok = False
    if not ok:
        raise _structure(where)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _row(model: type[SQLModel], raw: Any, where: str, *, with_id: bool = True) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _structure(where)
    columns = [c for c in _columns(model) if with_id or c.name != "id"]
    names = {c.name for c in columns}
    if set(raw) != names:
        raise _structure(f"{where}: {', '.join(sorted(set(raw) ^ names))}")
    row = {c.name: _value(c, raw[c.name], f"{where}.{c.name}") for c in columns}
    if with_id and not _is_id(row["id"]):
        raise _structure(f"{where}.id")
    table = _table(model)
    for name, value in row.items():
        allowed = _CHOICES.get((table, name))
        if allowed is not None and value not in allowed:
            raise _structure(f"{where}.{name}")
        low_high = _RANGES.get((table, name))
        if low_high is not None and not low_high[0] <= value <= low_high[1]:
            raise _structure(f"{where}.{name}")
    if model is Issue and not set(filter(None, row["affected"].split(","))) <= _LEVELS:
        raise _structure(f"{where}.affected")
    if model is Workshop and not SLUG.match(row["slug"]):
        raise _structure(f"{where}.slug")
    for name in ("join_code", "view_code"):
        if name in row and not _CODE.fullmatch(row[name]):
            raise _structure(f"{where}.{name}")
    if model is Issue and row["vector"] is not None and embeddings.misshapen(row["vector"]):
        # A vector of the wrong shape would break every page that compares statements.
        raise _structure(f"{where}.vector")
    try:
        _form_rules(model, row)
    except DomainError as error:
        error.values.setdefault("where", where)
        raise
    return row


def _form_rules(model: type[SQLModel], row: dict[str, Any]) -> None:
    """Apply, in place, the very checks the forms and organizer screens run on these fields.

    A restore stores nothing typing could not; it raises the form's own DomainError (the
    message the organizer would have seen), with `where` naming the row.
    """
    if model is Workshop:
        typed = {k: row[k] for k in WorkshopInput.model_fields}
        row.update(workshops.clean_workshop(WorkshopInput(**typed)))
    elif model is BreakoutGroup:
        row["name"] = workshops.clean_group_name(row["name"])
    elif model is Domain:
        row["name"], row["name_en"] = workshops.clean_domain_names(row["name"], row["name_en"])
    elif model is Theme:
        row["title"] = themes.clean_title(row["title"])
        row["description"] = themes.clean_description(row["description"])
    elif model is Issue:
        issue = validate_issue(
            IssueInput(
                domain_id=row["domain_id"],
                statement=row["statement"],
                cause=row["cause"],
                impact=row["impact"],
                affected=list(filter(None, row["affected"].split(","))),
                fix=row["fix"],
            )
        )
        row.update(issue.__dict__)
        if row["hidden_reason"] is not None:  # as models.themes.hide_issues checks it
            row["hidden_reason"] = clean_text(
                row["hidden_reason"],
                field="hide_reason",
                required=True,
                max_length=500,
                multiline=False,
            )
    elif model is Score:
        check_score(row["impact"], row["feasibility"])
    elif model is Recommendation:
        advice = recommendations.validate(
            recommendations.RecommendationInput(
                level=row["level"],
                text=row["text"],
                owner=row["owner"],
                timeframe=row["timeframe"],
                priority=row["priority"],
            )
        )
        row.update(advice.__dict__)


def _unique_sets(model: type[SQLModel]) -> list[tuple[str, ...]]:
    """The column sets the database keeps unique within one workshop's rows."""
    table = model.__table__  # type: ignore[attr-defined]
    sets: list[tuple[str, ...]] = [(c.name,) for c in table.columns if c.unique]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            sets.append(tuple(c.name for c in constraint.columns if c.name != "workshop_id"))
    return sets


def _check_rows(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Every row read and checked: types, vocabularies, uniqueness and references."""
    workshop = _row(Workshop, document["workshop"], "workshop", with_id=False)
    sections: dict[str, list[dict[str, Any]]] = {}
    ids: dict[str, set[int]] = {"workshop": {1}}
    for section, model in SECTIONS.items():
        raw = document[section]
        if not isinstance(raw, list):
            raise _structure(section)
        rows = [_row(model, item, f"{section}[{n}]") for n, item in enumerate(raw)]
        for columns in [("id",), *_unique_sets(model)]:
            keys = [tuple(r[c] for c in columns) for r in rows]
            keys = [k for k in keys if None not in k]
            if len(set(keys)) != len(keys):
                raise _structure(f"{section}: {'+'.join(columns)}")
        sections[section] = rows
        ids[_table(model)] = {r["id"] for r in rows}

    def must_exist(table: str, value: int) -> int:
        if value not in ids.get(table, set()):
            raise DomainError("error.restore.reference", detail=f"{table}:{value}")
        return value

    for n, event in enumerate(sections["audit_events"]):
        # History may name rows since removed, but only rows of tables undo knows.
        for side in ("before", "after"):
            rows = (event[side] or {}).get("rows", {})
            for key, snapshot in rows.items() if isinstance(rows, dict) else [(None, None)]:
                match = _ROW_KEY.fullmatch(key) if isinstance(key, str) else None
                known = match is not None and match[1] in _MODELS and match[1] != "audit_event"
                if not known or not isinstance(snapshot, dict | None):
                    raise _structure(f"audit_events[{n}].{side}")
    for section, model in SECTIONS.items():
        if model is AuditEvent:
            continue
        for row in sections[section]:
            scorer = row.get("scorer") if model is Score else None
            if scorer not in (None, STAFF_SCORER) and not _GROUP_REF.fullmatch(scorer):
                raise _structure(f"{section}.scorer")
            _translate(model, row, must_exist)
    return workshop, sections


# --- restore: writing ------------------------------------------------------------------


def _reserve(session: Session, table: str, count: int) -> list[int]:
    """`count` fresh ids for `table`, ascending, that no other writer can take."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        found = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count) ORDER BY 1"
            ),
            {"table": table, "count": count},
        )
        return sorted(int(value) for (value,) in found)
    # SQLite: BEGIN IMMEDIATE already keeps every other writer out until we commit.
    model = _MODELS[table]
    top = session.exec(select(func.max(model.id))).one() or 0  # type: ignore[attr-defined]
    return list(range(top + 1, top + 1 + count))


def _fresh_code(session: Session, column: Any, code: str, taken: set[str]) -> str:
    """`code` if nobody uses it yet, else a new one (restoring a copy beside its original)."""
    while code in taken or session.exec(select(column).where(column == code)).first():
        code = new_code()
    taken.add(code)
    return code


def restore_json(engine: Engine, data: bytes, *, actor: str, slug: str | None = None) -> Workshop:
    """A workshop back from `backup_json` bytes, in one transaction with one audit event.

    Every row gets a new id (relations kept), so restoring beside other workshops, or
    beside the original under a new `slug`, works. Join and view codes are kept unless
    already in use here; those are replaced with new ones. Raises DomainError
    `error.restore.*` (nothing written) for a file that is not a sound backup.
    """
    workshop_fields, sections = _check_rows(_parse_document(data))
    if slug is not None:
        if not SLUG.match(slug):
            raise DomainError("error.workshop.slug", slug=slug)
        workshop_fields["slug"] = slug
    numbering = _Numbering()
    numbering.rows("workshop", [1], [1])
    for section, rows in sections.items():
        table = _table(SECTIONS[section])
        numbering.rows(table, [r["id"] for r in rows], [r["id"] for r in rows])
    events = sections["audit_events"]
    for event in events:
        _translate(AuditEvent, event, numbering.collect)
    if numbering.ghost_count() > MAX_GHOSTS:
        raise _structure("audit_events")
    local = _Numbering()  # backup id → new id, filled once ids are reserved
    try:
        with db.write(engine) as session:
            taken = session.exec(
                select(Workshop.id).where(Workshop.slug == workshop_fields["slug"])
            ).first()
            if taken is not None:
                raise DomainError("error.restore.slug_taken", slug=workshop_fields["slug"])
            for table, known in numbering.ids.items():
                wanted = sorted(known) + sorted(numbering.ghosts.get(table, ()))
                local.rows(table, wanted, _reserve(session, table, len(wanted)))
            workshop = _insert(session, workshop_fields, sections, local)
            audit.record(
                session,
                actor=actor,
                action=RESTORE_ACTION,
                workshop_id=workshop.id,
                entity="workshop",
                entity_id=workshop.id,
                after={"slug": workshop.slug, **{s: len(r) for s, r in sections.items()}},
            )
    except IntegrityError as error:  # a constraint this check does not know about
        raise _structure(type(error.orig).__name__) from error
    return workshop


def _insert(
    session: Session,
    workshop_fields: dict[str, Any],
    sections: dict[str, list[dict[str, Any]]],
    ids: _Numbering,
) -> Workshop:
    workshop = Workshop(**workshop_fields, id=ids("workshop", 1))
    workshop.view_code = _fresh_code(session, Workshop.view_code, workshop.view_code, set())
    session.add(workshop)
    session.flush()
    codes: set[str] = set()
    for section, model in SECTIONS.items():
        own = [name for name, target in _targets(model).items() if target == _table(model)]
        later: list[tuple[Any, dict[str, Any]]] = []
        for raw in sections[section]:
            fields = _translate(model, raw, ids)
            # References within one table wait until every row of it exists.
            pending = {name: fields.pop(name) for name in own if fields.get(name) is not None}
            row = model(**fields, workshop_id=workshop.id)
            if isinstance(row, BreakoutGroup):
                row.join_code = _fresh_code(session, BreakoutGroup.join_code, row.join_code, codes)
            session.add(row)
            if pending:
                later.append((row, pending))
        session.flush()
        for row, pending in later:
            for name, value in pending.items():
                setattr(row, name, value)
            session.add(row)
        session.flush()
    return workshop
