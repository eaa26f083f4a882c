"""Undo: the facilitator steps back through staff actions, newest first, one at a time.

Every staff command records its change set (models.audit.Changes). Undoing puts each
row back as it was: rows the command deleted are re-inserted, changed rows get their
old values, rows it created are removed. If something changed a row since (a group
edited an issue the facilitator had moved), the undo stops with a clear message
rather than overwrite that later work.

Two facilitators may share the board (one PIN, one session label each, see
models.audit.SessionIdentity): with `mine_only`, undo takes back the newest action of
the asking actor, never a colleague's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from models import audit, db
from models.errors import DomainError
from models.schema import (
    AuditEvent,
    BreakoutGroup,
    Domain,
    Issue,
    Recommendation,
    Score,
    Theme,
    Vote,
    Workshop,
    utcnow,
)

TABLES: dict[str, type[SQLModel]] = {
    model.__tablename__: model  # type: ignore[misc]
    for model in (Workshop, BreakoutGroup, Domain, Issue, Theme, Vote, Score, Recommendation)
}
STAFF_ACTORS = ("facilitator", "organizer", "cli")
# Fields whose later change does not make an undo unsafe (bookkeeping, not content).
_IGNORED = {"updated_at"}


def _undoable(session: Session, workshop_id: int, by: str | None = None) -> list[AuditEvent]:
    """Undoable staff events, newest first; only `by`'s when given."""
    actor = col(AuditEvent.actor)
    who = (
        actor == by
        if by is not None
        else or_(
            actor.in_(STAFF_ACTORS),
            *(actor.startswith(f"{role}{audit.SESSION_SEP}") for role in STAFF_ACTORS),
        )
    )
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.workshop_id == workshop_id,
            col(AuditEvent.undone_at).is_(None),
            who,
            AuditEvent.action != "undo",
        )
        .order_by(col(AuditEvent.id).desc())
    )
    return [e for e in session.exec(query) if e.before and "rows" in e.before]


def next_undo(engine: Engine, workshop_id: int, *, by: str | None = None) -> AuditEvent | None:
    """The action `undo_last` would undo now (only `by`'s when given), to name it."""
    with db.read(engine) as session:
        found = _undoable(session, workshop_id, by)
    return found[0] if found else None


@dataclass(frozen=True)
class UndoState:
    """What an undo button says: the asker's next undo, and the newest of anyone's."""

    mine: AuditEvent | None
    newest: AuditEvent | None

    @property
    def newest_is_someone_elses(self) -> bool:
        return self.newest is not None and (self.mine is None or self.newest.id != self.mine.id)


@functools.lru_cache(maxsize=32)
def state(engine: Engine, workshop_id: int, at_version: tuple[int, str], actor: str) -> UndoState:
    """`UndoState` for one workshop version (models.views.version) and one actor."""
    del at_version  # part of the cache key only
    with db.read(engine) as session:
        everyone = _undoable(session, workshop_id)
    mine = next((e for e in everyone if e.actor == actor), None)
    return UndoState(mine, everyone[0] if everyone else None)


def _parse(model: type[SQLModel], fields: dict[str, Any]) -> dict[str, Any]:
    """A whole row's JSON snapshot back to column types (dates, datetimes)."""
    return model.model_validate(fields).model_dump(include=set(fields))


def _split(key: str) -> tuple[type[SQLModel], int]:
    table, row_id = key.rsplit(":", 1)
    return TABLES[table], int(row_id)


def undo_last(
    engine: Engine, *, actor: str, workshop_id: int, mine_only: bool = False
) -> AuditEvent:
    """Undo the newest staff action not yet undone; returns the event it undid.

    With `mine_only`, the newest action of `actor` itself (a colleague's stay).
    """
    try:
        return _undo_last(engine, actor=actor, workshop_id=workshop_id, mine_only=mine_only)
    except IntegrityError as error:
        # A re-inserted row's id was taken again since (SQLite reuses the highest id).
        raise DomainError("error.undo.id_taken") from error


def _undo_last(engine: Engine, *, actor: str, workshop_id: int, mine_only: bool) -> AuditEvent:
    with db.write(engine) as session:
        found = _undoable(session, workshop_id, actor if mine_only else None)
        if not found:
            raise DomainError("error.undo.nothing")
        event = found[0]
        before: dict[str, Any] = event.before["rows"]  # type: ignore[index]
        after: dict[str, Any] = event.after["rows"] if event.after else {}
        # Re-insert first (others may point at them), update next, remove created last.
        for key, old in before.items():
            if old is not None and after.get(key) is None:
                model, _ = _split(key)
                session.add(model(**_parse(model, old)))
        session.flush()
        for key, old in before.items():
            new = after.get(key)
            if old is None or new is None:
                continue
            model, row_id = _split(key)
            row = session.get(model, row_id)
            changed = {f for f in old if old[f] != new.get(f) and f not in _IGNORED}
            current = audit.snapshot(row) if row is not None else None
            if current is None or any(current.get(f) != new.get(f) for f in changed):
                raise DomainError("error.undo.conflict", action=event.action)
            restored = _parse(model, old)
            for field in changed:
                setattr(row, field, restored[field])
            session.add(row)
        session.flush()
        for key, old in before.items():
            if old is None:
                model, row_id = _split(key)
                row = session.get(model, row_id)
                if row is not None:
                    session.delete(row)
        event.undone_at = utcnow()
        session.add(event)
        audit.record(
            session,
            actor=actor,
            action="undo",
            workshop_id=workshop_id,
            entity="audit_event",
            entity_id=event.id,
            after={"undid": event.action},
        )
    return event
