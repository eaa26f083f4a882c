"""The audit log as people read it: when, who (by name), what, and whether it was undone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from models import audit, db, i18n
from models.schema import BreakoutGroup


def actor_name(actor: str, groups: dict[int, str], lang: str) -> str:
    if actor.startswith("group:"):
        return groups.get(int(actor.split(":", 1)[1]), actor)
    role, label = audit.actor_role(actor), audit.actor_label(actor)
    key = f"role.{role}"
    name = i18n.t(lang, key)
    name = role if name == key else name
    return f"{name} #{label}" if label else name  # two facilitators share one PIN


def recent(
    engine: Engine, workshop_id: int, lang: str, *, limit: int = 200
) -> list[dict[str, Any]]:
    """The newest events first, as rows with columns time, who, action, undone."""
    with db.read(engine) as session:
        events = audit.events(session, workshop_id, limit=limit)
        groups = {
            g.id: g.name
            for g in session.exec(
                select(BreakoutGroup).where(BreakoutGroup.workshop_id == workshop_id)
            )
        }
    return [
        {
            "time": event.created_at.astimezone().strftime("%H:%M:%S"),
            "who": actor_name(event.actor, groups, lang),  # type: ignore[arg-type]
            "action": i18n.t(lang, f"audit.{event.action}"),
            "undone": "✓" if event.undone_at else "",
        }
        for event in events
    ]
