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
        before = {"phase": workshop.phase, "phase_deadline": _iso(workshop.phase_deadline)}
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
            before=before,
            after={"phase": workshop.phase, "phase_deadline": _iso(deadline)},
        )
    return workshop


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
