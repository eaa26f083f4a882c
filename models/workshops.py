"""Setting a workshop up: the event itself, its breakout groups and its domains."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from models import audit, db, text
from models.access import new_code
from models.errors import DomainError, NotFound
from models.schema import BreakoutGroup, Domain, Issue, Phase, Theme, Vote, Workshop, utcnow

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
MAX_VOTE_BUDGET = 50


class WorkshopInput(SQLModel):
    """What an organizer types about the event."""

    title: str
    venue: str = ""
    starts_on: dt.date
    ends_on: dt.date
    vote_budget: int = 5
    max_votes_per_theme: int = 3
    groups_score: bool = False


def clean_workshop(data: WorkshopInput) -> dict[str, Any]:
    if data.ends_on < data.starts_on:
        raise DomainError("error.workshop.dates")
    if not 1 <= data.vote_budget <= MAX_VOTE_BUDGET:
        raise DomainError("error.workshop.vote_budget", max=MAX_VOTE_BUDGET)
    if not 1 <= data.max_votes_per_theme <= data.vote_budget:
        raise DomainError("error.workshop.max_per_theme")
    return {
        "title": text.clean(
            data.title, field="title", required=True, max_length=500, multiline=False
        ),
        "venue": text.clean(data.venue, field="venue", max_length=500, multiline=False),
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
        "vote_budget": data.vote_budget,
        "max_votes_per_theme": data.max_votes_per_theme,
        "groups_score": data.groups_score,
    }


def _unique_code(session: Session, column: Any) -> str:
    while True:
        code = new_code()
        if session.exec(select(column).where(column == code)).first() is None:
            return code


def _get(session: Session, model: type[Any], row_id: int, what: str) -> Any:
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(what)
    return row


# --- workshops -----------------------------------------------------------------------


def create_workshop(
    engine: Engine,
    *,
    actor: str,
    data: WorkshopInput,
    slug: str | None = None,
    groups: list[str] = (),  # type: ignore[assignment]
    domains: list[tuple[str, str]] = (),  # type: ignore[assignment]
    phase: Phase = Phase.SETUP,
) -> Workshop:
    """A new workshop with its groups and (Thai, English) domains, in one transaction."""
    fields = clean_workshop(data)
    slug = slug or f"ws-{data.starts_on:%Y%m%d}-{secrets.token_hex(2)}"
    if not SLUG.match(slug):
        raise DomainError("error.workshop.slug", slug=slug)
    with db.write(engine) as session:
        if session.exec(select(Workshop).where(Workshop.slug == slug)).first():
            raise DomainError("error.workshop.slug_taken", slug=slug)
        workshop = Workshop(
            slug=slug,
            phase=phase.value,
            view_code=_unique_code(session, Workshop.view_code),
            **fields,
        )
        session.add(workshop)
        session.flush()
        for position, name in enumerate(groups):
            _insert_group(session, workshop, name, position)
        for position, (name, name_en) in enumerate(domains):
            _insert_domain(session, workshop, name, name_en, position)
        audit.record(
            session,
            actor=actor,
            action="workshop.create",
            workshop_id=workshop.id,
            entity="workshop",
            entity_id=workshop.id,
            after=audit.snapshot(workshop),
        )
    return workshop


def update_workshop(
    engine: Engine, *, actor: str, workshop_id: int, data: WorkshopInput
) -> Workshop:
    fields = clean_workshop(data)
    with db.write(engine) as session:
        workshop = _get(session, Workshop, workshop_id, "workshop")
        _check_cast_votes(session, workshop, fields)
        before = audit.snapshot(workshop)
        for key, value in fields.items():
            setattr(workshop, key, value)
        workshop.updated_at = utcnow()
        session.add(workshop)
        audit.record(
            session,
            actor=actor,
            action="workshop.update",
            workshop_id=workshop_id,
            entity="workshop",
            entity_id=workshop_id,
            before=before,
            after=audit.snapshot(workshop),
        )
    return workshop


def _check_cast_votes(session: Session, workshop: Workshop, fields: dict[str, Any]) -> None:
    """Refuse lowering a limit below votes already cast: groups would be over budget with
    no way to vote again, and the ranking would count votes the rules no longer allow.
    Only a lowering is checked: an undone theme delete may leave a group over budget
    (models/votes.py), and that must not block editing the workshop's title."""
    lower_budget = fields["vote_budget"] < workshop.vote_budget
    lower_per_theme = fields["max_votes_per_theme"] < workshop.max_votes_per_theme
    if not (lower_budget or lower_per_theme):
        return
    live = (
        select(Vote.group_id, Vote.count)
        .join(Theme, col(Theme.id) == col(Vote.theme_id))
        .where(Theme.workshop_id == workshop.id, col(Theme.deleted_at).is_(None))
        .subquery()
    )
    per_group = select(func.sum(live.c.count)).group_by(live.c.group_id).subquery()
    most_by_a_group = session.exec(select(func.max(per_group.c[0]))).one() or 0
    most_on_a_theme = session.exec(select(func.max(live.c.count))).one() or 0
    if lower_budget and fields["vote_budget"] < most_by_a_group:
        raise DomainError("error.workshop.budget_below_cast", used=int(most_by_a_group))
    if lower_per_theme and fields["max_votes_per_theme"] < most_on_a_theme:
        raise DomainError("error.workshop.per_theme_below_cast", used=int(most_on_a_theme))


def list_workshops(engine: Engine) -> list[Workshop]:
    """Newest first: the organizer's default is the workshop being prepared now."""
    with db.read(engine) as session:
        query = select(Workshop).order_by(col(Workshop.starts_on).desc(), col(Workshop.id).desc())
        return list(session.exec(query))


def get_workshop(
    engine: Engine, *, workshop_id: int | None = None, slug: str | None = None
) -> Workshop:
    with db.read(engine) as session:
        if workshop_id is not None:
            return _get(session, Workshop, workshop_id, "workshop")
        found = session.exec(select(Workshop).where(Workshop.slug == slug)).first()
    if found is None:
        raise NotFound("workshop", slug=slug)
    return found


# --- groups ----------------------------------------------------------------------------


def clean_group_name(name: str) -> str:
    return text.clean(name, field="group_name", required=True, max_length=200, multiline=False)


def _insert_group(session: Session, workshop: Workshop, name: str, position: int) -> BreakoutGroup:
    name = clean_group_name(name)
    clash = select(BreakoutGroup).where(
        BreakoutGroup.workshop_id == workshop.id, BreakoutGroup.name == name
    )
    if session.exec(clash).first():
        raise DomainError("error.group.name_taken", name=name)
    group = BreakoutGroup(
        workshop_id=workshop.id,  # type: ignore[arg-type]
        name=name,
        position=position,
        join_code=_unique_code(session, BreakoutGroup.join_code),
    )
    session.add(group)
    session.flush()
    return group


def list_groups(engine: Engine, workshop_id: int) -> list[BreakoutGroup]:
    with db.read(engine) as session:
        query = (
            select(BreakoutGroup)
            .where(BreakoutGroup.workshop_id == workshop_id)
            .order_by(col(BreakoutGroup.position), col(BreakoutGroup.id))
        )
        return list(session.exec(query))


def get_group(engine: Engine, group_id: int) -> BreakoutGroup:
    with db.read(engine) as session:
        return _get(session, BreakoutGroup, group_id, "group")


def add_group(engine: Engine, *, actor: str, workshop_id: int, name: str) -> BreakoutGroup:
    with db.write(engine) as session:
        workshop = _get(session, Workshop, workshop_id, "workshop")
        last = session.exec(
            select(func.max(BreakoutGroup.position)).where(BreakoutGroup.workshop_id == workshop_id)
        ).one()
        group = _insert_group(session, workshop, name, (last if last is not None else -1) + 1)
        audit.record(
            session,
            actor=actor,
            action="group.add",
            workshop_id=workshop_id,
            entity="group",
            entity_id=group.id,
            after=audit.snapshot(group),
        )
    return group


def rename_group(engine: Engine, *, actor: str, group_id: int, name: str) -> BreakoutGroup:
    name = clean_group_name(name)
    with db.write(engine) as session:
        group = _get(session, BreakoutGroup, group_id, "group")
        clash = select(BreakoutGroup).where(
            BreakoutGroup.workshop_id == group.workshop_id,
            BreakoutGroup.name == name,
            BreakoutGroup.id != group_id,
        )
        if session.exec(clash).first():
            raise DomainError("error.group.name_taken", name=name)
        before = audit.snapshot(group)
        group.name = name
        session.add(group)
        audit.record(
            session,
            actor=actor,
            action="group.rename",
            workshop_id=group.workshop_id,
            entity="group",
            entity_id=group_id,
            before=before,
            after=audit.snapshot(group),
        )
    return group


def regenerate_code(engine: Engine, *, actor: str, group_id: int) -> BreakoutGroup:
    """A new join code; the old link stops working at its next refresh."""
    with db.write(engine) as session:
        group = _get(session, BreakoutGroup, group_id, "group")
        group.join_code = _unique_code(session, BreakoutGroup.join_code)
        session.add(group)
        # The codes themselves stay out of the log: it is readable by more people.
        audit.record(
            session,
            actor=actor,
            action="group.regenerate_code",
            workshop_id=group.workshop_id,
            entity="group",
            entity_id=group_id,
        )
    return group


def remove_group(engine: Engine, *, actor: str, group_id: int) -> None:
    """Remove a group that has entered nothing (its issues are never dropped with it)."""
    with db.write(engine) as session:
        group = _get(session, BreakoutGroup, group_id, "group")
        if session.exec(select(Issue.id).where(Issue.group_id == group_id)).first():
            raise DomainError("error.group.not_empty", name=group.name)
        before = audit.snapshot(group)
        before.pop("join_code", None)
        session.delete(group)
        audit.record(
            session,
            actor=actor,
            action="group.remove",
            workshop_id=group.workshop_id,
            entity="group",
            entity_id=group_id,
            before=before,
        )


# --- domains ---------------------------------------------------------------------------


def clean_domain_names(name: str, name_en: str) -> tuple[str, str]:
    return (
        text.clean(name, field="domain_name", required=True, max_length=200, multiline=False),
        text.clean(name_en, field="domain_name_en", max_length=200, multiline=False),
    )


def _insert_domain(
    session: Session, workshop: Workshop, name: str, name_en: str, position: int
) -> Domain:
    name, name_en = clean_domain_names(name, name_en)
    clash = select(Domain).where(Domain.workshop_id == workshop.id, Domain.name == name)
    if session.exec(clash).first():
        raise DomainError("error.domain.name_taken", name=name)
    domain = Domain(
        workshop_id=workshop.id,  # type: ignore[arg-type]
        name=name,
        name_en=name_en,
        position=position,
    )
    session.add(domain)
    session.flush()
    return domain


def list_domains(engine: Engine, workshop_id: int) -> list[Domain]:
    with db.read(engine) as session:
        query = (
            select(Domain)
            .where(Domain.workshop_id == workshop_id)
            .order_by(col(Domain.position), col(Domain.id))
        )
        return list(session.exec(query))


def add_domain(
    engine: Engine, *, actor: str, workshop_id: int, name: str, name_en: str = ""
) -> Domain:
    with db.write(engine) as session:
        workshop = _get(session, Workshop, workshop_id, "workshop")
        last = session.exec(
            select(func.max(Domain.position)).where(Domain.workshop_id == workshop_id)
        ).one()
        domain = _insert_domain(
            session, workshop, name, name_en, (last if last is not None else -1) + 1
        )
        audit.record(
            session,
            actor=actor,
            action="domain.add",
            workshop_id=workshop_id,
            entity="domain",
            entity_id=domain.id,
            after=audit.snapshot(domain),
        )
    return domain


def rename_domain(
    engine: Engine, *, actor: str, domain_id: int, name: str, name_en: str = ""
) -> Domain:
    name, name_en = clean_domain_names(name, name_en)
    with db.write(engine) as session:
        domain = _get(session, Domain, domain_id, "domain")
        clash = select(Domain).where(
            Domain.workshop_id == domain.workshop_id, Domain.name == name, Domain.id != domain_id
        )
        if session.exec(clash).first():
            raise DomainError("error.domain.name_taken", name=name)
        before = audit.snapshot(domain)
        domain.name, domain.name_en = name, name_en
        session.add(domain)
        audit.record(
            session,
            actor=actor,
            action="domain.rename",
            workshop_id=domain.workshop_id,
            entity="domain",
            entity_id=domain_id,
            before=before,
            after=audit.snapshot(domain),
        )
    return domain


def remove_domain(engine: Engine, *, actor: str, domain_id: int) -> None:
    with db.write(engine) as session:
        domain = _get(session, Domain, domain_id, "domain")
        if session.exec(select(Issue.id).where(Issue.domain_id == domain_id)).first():
            raise DomainError("error.domain.not_empty", name=domain.name)
        before = audit.snapshot(domain)
        session.delete(domain)
        audit.record(
            session,
            actor=actor,
            action="domain.remove",
            workshop_id=domain.workshop_id,
            entity="domain",
            entity_id=domain_id,
            before=before,
        )


def move(engine: Engine, *, actor: str, kind: str, row_id: int, offset: int) -> None:
    """Move a group or domain up (-1) or down (+1) in its workshop's order."""
    model: Any = BreakoutGroup if kind == "group" else Domain
    with db.write(engine) as session:
        row = _get(session, model, row_id, kind)
        siblings: list[Any] = list(
            session.exec(
                select(model)
                .where(model.workshop_id == row.workshop_id)
                .order_by(col(model.position), col(model.id))
            )
        )
        index = next(i for i, s in enumerate(siblings) if s.id == row_id)
        target = index + offset
        if not 0 <= target < len(siblings):
            return
        before = [s.id for s in siblings]
        siblings.insert(target, siblings.pop(index))
        for position, sibling in enumerate(siblings):
            sibling.position = position
            session.add(sibling)
        audit.record(
            session,
            actor=actor,
            action=f"{kind}.move",
            workshop_id=row.workshop_id,
            entity=kind,
            entity_id=row_id,
            before={"order": before},
            after={"order": [s.id for s in siblings]},
        )
