"""Phase rules: what each phase of the workshop allows, and moving between phases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine

from models import audit, db
from models.errors import DomainError, NotFound
from models.schema import Phase, Workshop, utcnow

ORDER: tuple[Phase, ...] = tuple(Phase)

# Which actions each phase allows. Pages ask `allows()` before offering a control, and
# commands ask `require()` before acting, so the rule lives in exactly one place.
RULES: dict[str, frozenset[Phase]] = {
    "enter_issue": frozenset({Phase.COLLECT}),
    "edit_setup": frozenset(Phase),
    "group_themes": frozenset({Phase.COLLECT, Phase.GROUP, Phase.VOTE, Phase.RECOMMEND}),
    "vote": frozenset({Phase.VOTE}),
    "score": frozenset({Phase.VOTE, Phase.RECOMMEND}),
    "propose_recommendation": frozenset({Phase.RECOMMEND}),
    "edit_recommendation": frozenset({Phase.RECOMMEND, Phase.PRESENT}),
}


def allows(phase: str | Phase, action: str) -> bool:
    return Phase(phase) in RULES[action]


def require(workshop: Workshop, action: str) -> None:
    """Raise a domain error naming the phase when `action` is closed."""
    if not allows(workshop.phase, action):
        raise DomainError(f"error.phase.{action}", phase=workshop.phase)


def set_phase(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    phase: Phase,
    deadline: dt.datetime | None = None,
) -> Workshop:
    """Move the workshop to `phase` (forwards or back) with an optional countdown end."""
    with db.write(engine) as session:
        workshop = session.get(Workshop, workshop_id)
        if workshop is None:
            raise NotFound("workshop")
        changes = audit.Changes()
        changes.touch(workshop)
        workshop.phase = Phase(phase).value
        workshop.phase_deadline = deadline
        workshop.updated_at = utcnow()
        session.add(workshop)
        audit.record(
            session,
            actor=actor,
            action="phase.set",
            workshop_id=workshop_id,
            entity="workshop",
            entity_id=workshop_id,
            changes=changes,
        )
    return workshop


def set_reveal(engine: Engine, *, actor: str, workshop_id: int, revealed: bool) -> Workshop:
    """End (or resume) silent generation: after reveal, groups see every group's issues."""
    with db.write(engine) as session:
        workshop = session.get(Workshop, workshop_id)
        if workshop is None:
            raise NotFound("workshop")
        changes = audit.Changes()
        changes.touch(workshop)
        workshop.revealed = revealed
        workshop.updated_at = utcnow()
        session.add(workshop)
        audit.record(
            session,
            actor=actor,
            action="workshop.reveal" if revealed else "workshop.conceal",
            workshop_id=workshop_id,
            entity="workshop",
            entity_id=workshop_id,
            changes=changes,
        )
    return workshop


def seconds_left(workshop: Workshop, now: dt.datetime | None = None) -> int | None:
    """Seconds until the phase's countdown ends (0 once past), or None without one."""
    if workshop.phase_deadline is None:
        return None
    deadline = workshop.phase_deadline
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=dt.UTC)
    return max(0, int((deadline - (now or utcnow())).total_seconds()))
