"""The audit trail: every command writes one event with enough to undo it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from models.access import Identity
from models.schema import AuditEvent

_NOT_AUDITED = {"vector"}
# Staff share one PIN, so the role alone cannot tell two facilitators apart: each staff
# browser session adds its own label ("facilitator#3fa2"). Undo and conflict checks use
# the whole string; the audit log shows the role and the label.
SESSION_SEP = "#"


def session_actor(actor: str, label: str) -> str:
    """`facilitator#3fa2`: one staff session's name in the audit trail."""
    return f"{actor}{SESSION_SEP}{label}" if label else actor


def actor_role(actor: str) -> str:
    """The role part of an actor (`facilitator#3fa2` -> `facilitator`)."""
    return actor.split(SESSION_SEP, 1)[0]


def actor_label(actor: str) -> str:
    """The session part of an actor (`facilitator#3fa2` -> `3fa2`), or ''."""
    return actor.partition(SESSION_SEP)[2]


@dataclass(frozen=True)
class SessionIdentity(Identity):
    """A staff identity that signs its audit events with its browser session's label."""

    label: str = ""

    @property
    def actor(self) -> str:
        return session_actor(super().actor, self.label)


def snapshot(row: SQLModel) -> dict[str, Any]:
    """A row's fields as JSON-ready values (bulky derived columns left out)."""
    return row.model_dump(mode="json", exclude=_NOT_AUDITED)


def row_key(row: SQLModel) -> str:
    """`issue:12`: how a change set names a row."""
    return f"{row.__tablename__}:{row.id}"  # type: ignore[attr-defined]


class Changes:
    """The rows one command touched, as they were and as they end up: what undo needs.

    Call `touch(row)` before changing a row, `created(row)` after adding (and flushing)
    one, `deleted(row)` before deleting one. `record(..., changes=...)` stores both sides
    as `{"rows": {"issue:12": {...fields} | None}}`; None means "did not exist".
    """

    def __init__(self) -> None:
        self._before: dict[str, dict[str, Any] | None] = {}
        self._rows: dict[str, SQLModel | None] = {}

    def touch(self, row: SQLModel) -> None:
        key = row_key(row)
        if key not in self._before:
            self._before[key] = snapshot(row)
        self._rows[key] = row

    def created(self, row: SQLModel) -> None:
        key = row_key(row)
        self._before.setdefault(key, None)
        self._rows[key] = row

    def deleted(self, row: SQLModel) -> None:
        self.touch(row)
        self._rows[row_key(row)] = None

    def __bool__(self) -> bool:
        return bool(self._before)

    def sides(self) -> tuple[dict[str, Any], dict[str, Any]]:
        after = {
            key: (snapshot(row) if row is not None else None) for key, row in self._rows.items()
        }
        return {"rows": dict(self._before)}, {"rows": after}


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    workshop_id: int | None,
    entity: str = "",
    entity_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    changes: Changes | None = None,
) -> AuditEvent:
    """Add the command's audit event to the command's own transaction."""
    if changes is not None:
        session.flush()
        before, after = changes.sides()
    event = AuditEvent(
        workshop_id=workshop_id,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
    session.add(event)
    return event


def events(session: Session, workshop_id: int, *, limit: int = 200) -> list[AuditEvent]:
    """The newest events of a workshop first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.workshop_id == workshop_id)
        .order_by(col(AuditEvent.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


Rows = dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]]


def _rows(event: AuditEvent) -> Rows:
    before = (event.before or {}).get("rows") or {}
    after = (event.after or {}).get("rows") or {}
    return {key: (before.get(key), after.get(key)) for key in {*before, *after}}


def staff_changes_since(
    session: Session, workshop_id: int, seen: int, *, excluding: str
) -> list[tuple[AuditEvent, Rows]]:
    """Staff events after event `seen` not by `excluding`, with the rows each changed.

    An undo changed the rows of the event it undid, so it reports those. Groups' events
    are left out: a group editing its issue's text does not make a board action wrong.
    """
    found = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.workshop_id == workshop_id,
            col(AuditEvent.id) > seen,
            AuditEvent.actor != excluding,
            # In SQL: a board left open for an hour must not load every group's submit.
            ~col(AuditEvent.actor).startswith("group:"),
        )
        .order_by(col(AuditEvent.id))
    ).all()
    out = []
    for event in found:
        source = event
        if event.action == "undo" and event.entity_id is not None:
            source = session.get(AuditEvent, event.entity_id) or event
        out.append((event, _rows(source)))
    return out
