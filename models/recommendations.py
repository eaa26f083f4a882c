"""Recommendations: what the plenary takes home, per theme and level (school to central).

Staff write accepted recommendations and judge the ones groups propose. Every command
is one transaction with one audit event carrying its change set, so staff actions are
undoable (models.undo).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from models import audit, db, phases, text
from models.access import Identity
from models.errors import DomainError, Forbidden, NotFound
from models.schema import (
    BreakoutGroup,
    Level,
    Recommendation,
    RecommendationStatus,
    Role,
    Theme,
    Workshop,
)

MAX_TEXT = 4000
MAX_OWNER = 300
MAX_TIMEFRAME = 200
PRIORITIES = (1, 2, 3)  # high, medium, low
_STAFF = frozenset({Role.ORGANIZER, Role.FACILITATOR})
_JUDGEMENTS = frozenset({RecommendationStatus.ACCEPTED, RecommendationStatus.REJECTED})


class RecommendationInput(SQLModel):
    """The fields of the recommendation form, as typed."""

    level: str
    text: str
    owner: str = ""
    timeframe: str = ""
    priority: int = 2


@dataclass(frozen=True)
class RecommendationFields:
    level: str
    text: str
    owner: str
    timeframe: str
    priority: int


def validate(data: RecommendationInput) -> RecommendationFields:
    """Normalised, checked fields; raises DomainError naming the first bad one."""
    level = str(data.level)
    if level not in Level._value2member_map_:
        raise DomainError("error.recommendation.level", value=level)
    if data.priority not in PRIORITIES:
        raise DomainError("error.recommendation.priority", value=data.priority)
    return RecommendationFields(
        level=level,
        text=text.clean(data.text, field="recommendation", required=True, max_length=MAX_TEXT),
        owner=text.clean(data.owner, field="owner", max_length=MAX_OWNER, multiline=False),
        timeframe=text.clean(
            data.timeframe, field="timeframe", max_length=MAX_TIMEFRAME, multiline=False
        ),
        priority=data.priority,
    )


def _is_staff(identity: Identity) -> bool:
    return identity.role in _STAFF


def _workshop(session: Session, workshop_id: int, action: str) -> Workshop:
    workshop = session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound("workshop")
    phases.require(workshop, action)
    return workshop


def _live_theme(session: Session, theme_id: int, workshop_id: int | None) -> Theme:
    theme = session.get(Theme, theme_id)
    if theme is None or theme.deleted_at is not None:
        raise NotFound("theme")
    if workshop_id is not None and theme.workshop_id != workshop_id:
        raise NotFound("theme")  # another workshop's theme: as if it did not exist
    return theme


def _scope(identity: Identity, workshop_id: int | None) -> int | None:
    """The workshop a command is confined to: a group's own, or what staff passed."""
    if identity.role is Role.GROUP:
        if identity.group_id is None or identity.workshop_id is None:
            raise Forbidden()
        return identity.workshop_id
    if not _is_staff(identity):
        raise Forbidden()
    return workshop_id or identity.workshop_id


def _get(session: Session, recommendation_id: int, workshop_id: int | None) -> Recommendation:
    row = session.get(Recommendation, recommendation_id)
    if row is None or (workshop_id is not None and row.workshop_id != workshop_id):
        raise DomainError("error.recommendation.not_found")
    return row


def _staff_only(identity: Identity) -> None:
    if not _is_staff(identity):
        raise Forbidden("error.recommendation.staff_only")


def _record(
    session: Session, identity: Identity, action: str, row: Recommendation, changes: audit.Changes
) -> None:
    audit.record(
        session,
        actor=identity.actor,
        action=action,
        workshop_id=row.workshop_id,
        entity="recommendation",
        entity_id=row.id,
        changes=changes,
    )


def add_recommendation(
    engine: Engine,
    *,
    identity: Identity,
    theme_id: int,
    data: RecommendationInput,
    workshop_id: int | None = None,
) -> Recommendation:
    """Staff add an accepted recommendation; a group proposes one for staff to judge.

    Staff may pass `workshop_id` to confine the command to the workshop on screen;
    otherwise the theme's workshop is used.
    """
    scope = _scope(identity, workshop_id)
    fields = validate(data)
    group = identity.role is Role.GROUP
    action = "propose_recommendation" if group else "edit_recommendation"
    status = RecommendationStatus.PROPOSED if group else RecommendationStatus.ACCEPTED
    event = "recommendation.propose" if group else "recommendation.add"
    with db.write(engine) as session:
        theme = _live_theme(session, theme_id, scope)
        _workshop(session, theme.workshop_id, action)
        if group:
            found = session.get(BreakoutGroup, identity.group_id)
            if found is None or found.workshop_id != theme.workshop_id:
                raise NotFound("group")
        row = Recommendation(
            workshop_id=theme.workshop_id,
            theme_id=theme_id,
            status=status.value,
            proposed_by_group_id=identity.group_id if group else None,
            **fields.__dict__,
        )
        session.add(row)
        session.flush()
        changes = audit.Changes()
        changes.created(row)
        _record(session, identity, event, row, changes)
    return row


def edit_recommendation(
    engine: Engine,
    *,
    identity: Identity,
    recommendation_id: int,
    data: RecommendationInput,
    workshop_id: int | None = None,
) -> Recommendation:
    """Staff edit any recommendation; a group only its own, while still proposed."""
    scope = _scope(identity, workshop_id)
    fields = validate(data)
    with db.write(engine) as session:
        row = _get(session, recommendation_id, scope)
        if identity.role is Role.GROUP:
            if row.proposed_by_group_id != identity.group_id:
                raise Forbidden("error.recommendation.not_yours")
            if row.status != RecommendationStatus.PROPOSED.value:
                raise DomainError("error.recommendation.not_proposed")
            _workshop(session, row.workshop_id, "propose_recommendation")
        else:
            _workshop(session, row.workshop_id, "edit_recommendation")
        changes = audit.Changes()
        changes.touch(row)
        for key, value in fields.__dict__.items():
            setattr(row, key, value)
        session.add(row)
        _record(session, identity, "recommendation.edit", row, changes)
    return row


def set_status(
    engine: Engine,
    *,
    identity: Identity,
    recommendation_id: int,
    status: RecommendationStatus | str,
    workshop_id: int | None = None,
) -> Recommendation:
    """Accept or reject a recommendation (staff only). Setting the status it has is a no-op."""
    _staff_only(identity)
    if status not in {s.value for s in _JUDGEMENTS}:
        raise DomainError("error.recommendation.status", value=str(status))
    scope = _scope(identity, workshop_id)
    with db.write(engine) as session:
        row = _get(session, recommendation_id, scope)
        _workshop(session, row.workshop_id, "edit_recommendation")
        if row.status == status:
            return row  # a double click records nothing the second time
        changes = audit.Changes()
        changes.touch(row)
        row.status = RecommendationStatus(status).value
        session.add(row)
        _record(session, identity, "recommendation.status", row, changes)
    return row


def delete_recommendation(
    engine: Engine, *, identity: Identity, recommendation_id: int, workshop_id: int | None = None
) -> None:
    """Remove a recommendation (staff only); the audit change set lets undo put it back."""
    _staff_only(identity)
    scope = _scope(identity, workshop_id)
    with db.write(engine) as session:
        row = _get(session, recommendation_id, scope)
        _workshop(session, row.workshop_id, "edit_recommendation")
        changes = audit.Changes()
        changes.deleted(row)
        session.delete(row)
        _record(session, identity, "recommendation.delete", row, changes)


# --- queries -------------------------------------------------------------------------------


def for_workshop(
    engine: Engine,
    workshop_id: int,
    *,
    statuses: Iterable[RecommendationStatus | str] | None = None,
) -> list[Recommendation]:
    """A workshop's recommendations (all statuses unless given), by theme, priority, id.

    Recommendations of themes since merged or deleted are included: callers choose
    which themes they show.
    """
    query = select(Recommendation).where(Recommendation.workshop_id == workshop_id)
    if statuses is not None:
        query = query.where(col(Recommendation.status).in_([str(s) for s in statuses]))
    query = query.order_by(
        col(Recommendation.theme_id), col(Recommendation.priority), col(Recommendation.id)
    )
    with db.read(engine) as session:
        return list(session.exec(query))


def by_theme_and_level(
    engine: Engine,
    workshop_id: int,
    *,
    statuses: Iterable[RecommendationStatus | str] | None = None,
) -> dict[int, dict[str, list[Recommendation]]]:
    """theme id → level → recommendations, levels in Level order (only those present),
    each list by priority (high first), then by when it was written."""
    grouped: dict[int, dict[str, list[Recommendation]]] = {}
    for row in for_workshop(engine, workshop_id, statuses=statuses):
        grouped.setdefault(row.theme_id, {}).setdefault(row.level, []).append(row)
    order = {level.value: index for index, level in enumerate(Level)}
    return {
        theme_id: dict(sorted(levels.items(), key=lambda item: order.get(item[0], len(order))))
        for theme_id, levels in grouped.items()
    }


def proposed_by_group(engine: Engine, group_id: int) -> list[Recommendation]:
    """What a group proposed, in any status, newest first."""
    query = (
        select(Recommendation)
        .where(Recommendation.proposed_by_group_id == group_id)
        .order_by(col(Recommendation.id).desc())
    )
    with db.read(engine) as session:
        return list(session.exec(query))
