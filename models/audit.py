"""The audit trail: every command writes one event with enough to undo it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, SQLModel, col, select

from models.schema import AuditEvent

_NOT_AUDITED = {"vector"}


def snapshot(row: SQLModel) -> dict[str, Any]:
    """A row's fields as JSON-ready values (bulky derived columns left out)."""
    return row.model_dump(mode="json", exclude=_NOT_AUDITED)


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
) -> AuditEvent:
    """Add the command's audit event to the command's own transaction."""
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
