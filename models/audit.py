"""The audit trail: every command writes one event with enough to undo it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, SQLModel, col, select

from models.schema import AuditEvent

_NOT_AUDITED = {"vector"}


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
