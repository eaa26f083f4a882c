"""Dot votes and impact × feasibility scores on themes: the commands and their queries.

A group's votes may never add up to more than the workshop's budget, even when
several of its laptops vote at the same moment: every vote command first locks the
group's row (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already
serialises writers), so reading the group's total and writing the new count happen
as one step. Only live themes count: votes on a theme later deleted or merged are
given back to the group.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import audit, db, phases
from models.access import Identity
from models.errors import DomainError, Forbidden, NotFound
from models.schema import BreakoutGroup, Role, Score, Theme, Vote, Workshop

SCORE_MIN, SCORE_MAX = 1, 5
STAFF_SCORER = "facilitator"
_STAFF = (Role.FACILITATOR, Role.ORGANIZER)


def _live_theme(session: Session, workshop_id: int, theme_id: int, *, lock: bool = False) -> Theme:
    query = select(Theme).where(Theme.id == theme_id)
    if lock:
        query = query.with_for_update()
    theme = session.exec(query).first()
    if (
        theme is None
        or theme.workshop_id != workshop_id
        or theme.deleted_at is not None
        or theme.merged_into_id is not None
    ):
        raise NotFound("theme")
    return theme


def _locked_group(session: Session, identity: Identity) -> tuple[BreakoutGroup, Workshop]:
    """The voting group, its row locked until the transaction ends (no-op on SQLite)."""
    if identity.role is not Role.GROUP or identity.group_id is None:
        raise Forbidden()
    group = session.exec(
        select(BreakoutGroup).where(BreakoutGroup.id == identity.group_id).with_for_update()
    ).first()
    if group is None:
        raise NotFound("group")
    workshop = session.get(Workshop, group.workshop_id)
    if workshop is None:
        raise NotFound("workshop")
    return group, workshop


def _used(session: Session, group_id: int) -> int:
    """The group's votes on live themes, summed by the database."""
    total = session.exec(
        select(func.coalesce(func.sum(Vote.count), 0))
        .join(Theme, col(Theme.id) == col(Vote.theme_id))
        .where(Vote.group_id == group_id, col(Theme.deleted_at).is_(None))
    ).one()
    return int(total)


def _set_votes(
    engine: Engine, identity: Identity, theme_id: int, count: int | None, delta: int = 0
) -> Vote:
    """Shared body of cast_votes (absolute `count`) and change_votes (relative `delta`)."""
    with db.write(engine) as session:
        group, workshop = _locked_group(session, identity)
        phases.require(workshop, "vote")
        _live_theme(session, workshop.id, theme_id)  # type: ignore[arg-type]
        vote = session.exec(
            select(Vote).where(Vote.theme_id == theme_id, Vote.group_id == group.id)
        ).first()
        old = vote.count if vote is not None else 0
        new = old + delta if count is None else count
        if new < 0:
            raise DomainError("error.vote.count")
        if new > workshop.max_votes_per_theme and new > old:
            raise DomainError("error.vote.per_theme", max=workshop.max_votes_per_theme)
        used = _used(session, group.id)  # type: ignore[arg-type]
        # Lowering is always allowed, even if a restored theme left the group over budget.
        if new > old and used - old + new > workshop.vote_budget:
            raise DomainError("error.vote.budget", budget=workshop.vote_budget, used=used)
        changes = audit.Changes()
        if vote is None:
            vote = Vote(
                workshop_id=workshop.id,  # type: ignore[arg-type]
                theme_id=theme_id,
                group_id=group.id,  # type: ignore[arg-type]
                count=new,
            )
            session.add(vote)
            session.flush()
            changes.created(vote)
        else:
            changes.touch(vote)
            vote.count = new
            session.add(vote)
        audit.record(
            session,
            actor=identity.actor,
            action="vote.cast",
            workshop_id=workshop.id,
            entity="theme",
            entity_id=theme_id,
            changes=changes,
        )
    return vote


def cast_votes(engine: Engine, *, identity: Identity, theme_id: int, count: int) -> Vote:
    """Set this group's votes on one theme to `count` (0 … max_votes_per_theme).

    Moving votes is lowering one theme, then raising another. Raises DomainError
    `error.vote.count`, `error.vote.per_theme` (max) or `error.vote.budget` (budget, used).
    """
    if isinstance(count, bool) or not isinstance(count, int):
        raise DomainError("error.vote.count")
    return _set_votes(engine, identity, theme_id, count)


def change_votes(engine: Engine, *, identity: Identity, theme_id: int, delta: int) -> Vote:
    """Add (or with a negative `delta`, take back) votes on one theme: the +/- buttons.

    Relative, so two laptops of one group pressing "+" at once add two votes, not one.
    """
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise DomainError("error.vote.count")
    return _set_votes(engine, identity, theme_id, None, delta)


def group_votes(engine: Engine, group_id: int) -> dict[int, int]:
    """{theme id: votes} of one group on live themes (themes it gave no vote are absent)."""
    with db.read(engine) as session:
        rows = session.exec(
            select(Vote.theme_id, Vote.count)
            .join(Theme, col(Theme.id) == col(Vote.theme_id))
            .where(Vote.group_id == group_id, Vote.count > 0, col(Theme.deleted_at).is_(None))
        ).all()
    return {theme_id: count for theme_id, count in rows}


def votes_left(engine: Engine, group_id: int) -> int:
    """What the group may still spend (never negative)."""
    with db.read(engine) as session:
        group = session.get(BreakoutGroup, group_id)
        if group is None:
            raise NotFound("group")
        workshop = session.get(Workshop, group.workshop_id)
        assert workshop is not None
        return max(0, workshop.vote_budget - _used(session, group_id))


def vote_totals(engine: Engine, workshop_id: int) -> dict[int, int]:
    """{theme id: votes from all groups} for the workshop's live themes that have votes."""
    with db.read(engine) as session:
        rows = session.exec(
            select(Vote.theme_id, func.sum(Vote.count))
            .join(Theme, col(Theme.id) == col(Vote.theme_id))
            .where(Vote.workshop_id == workshop_id, col(Theme.deleted_at).is_(None))
            .group_by(col(Vote.theme_id))
            .having(func.sum(Vote.count) > 0)
        ).all()
    return {theme_id: int(total) for theme_id, total in rows}


# --- scores ---------------------------------------------------------------------------------


def scorer_for(identity: Identity) -> str:
    """How a score names who gave it: one shared facilitator score, or one per group."""
    if identity.role in _STAFF:
        return STAFF_SCORER
    if identity.role is Role.GROUP and identity.group_id is not None:
        return f"group:{identity.group_id}"
    raise Forbidden()


def _check_range(impact: int, feasibility: int) -> None:
    for value in (impact, feasibility):
        if isinstance(value, bool) or not isinstance(value, int):
            raise DomainError("error.score.range", min=SCORE_MIN, max=SCORE_MAX)
        if not SCORE_MIN <= value <= SCORE_MAX:
            raise DomainError("error.score.range", min=SCORE_MIN, max=SCORE_MAX)


def set_score(
    engine: Engine, *, identity: Identity, theme_id: int, impact: int, feasibility: int
) -> Score:
    """Score a theme 1–5 on impact and on feasibility; scoring again replaces the score.

    Staff always may (as one shared "facilitator" scorer); groups only when the workshop
    lets groups score. Raises `error.score.range` or `error.score.groups_off`.
    """
    scorer = scorer_for(identity)
    _check_range(impact, feasibility)
    with db.write(engine) as session:
        if identity.role is Role.GROUP:
            group = session.get(BreakoutGroup, identity.group_id)
            if group is None:
                raise NotFound("group")
            workshop_id = group.workshop_id
        else:
            found = session.get(Theme, theme_id)
            if found is None:
                raise NotFound("theme")
            workshop_id = found.workshop_id
        workshop = session.get(Workshop, workshop_id)
        if workshop is None:
            raise NotFound("workshop")
        phases.require(workshop, "score")
        if identity.role is Role.GROUP and not workshop.groups_score:
            raise DomainError("error.score.groups_off")
        # The theme's row lock makes two first scores by one scorer queue, not collide.
        _live_theme(session, workshop_id, theme_id, lock=True)
        score = session.exec(
            select(Score).where(Score.theme_id == theme_id, Score.scorer == scorer)
        ).first()
        changes = audit.Changes()
        if score is None:
            score = Score(
                workshop_id=workshop_id,
                theme_id=theme_id,
                scorer=scorer,
                impact=impact,
                feasibility=feasibility,
            )
            session.add(score)
            session.flush()
            changes.created(score)
        else:
            changes.touch(score)
            score.impact, score.feasibility = impact, feasibility
            session.add(score)
        audit.record(
            session,
            actor=identity.actor,
            action="score.set",
            workshop_id=workshop_id,
            entity="theme",
            entity_id=theme_id,
            changes=changes,
        )
    return score


def scores_by(engine: Engine, workshop_id: int, scorer: str) -> dict[int, tuple[int, int]]:
    """{theme id: (impact, feasibility)} one scorer gave, to pre-fill the sliders."""
    with db.read(engine) as session:
        rows = session.exec(
            select(Score.theme_id, Score.impact, Score.feasibility).where(
                Score.workshop_id == workshop_id, Score.scorer == scorer
            )
        ).all()
    return {theme_id: (impact, feasibility) for theme_id, impact, feasibility in rows}


def score_averages(engine: Engine, workshop_id: int) -> dict[int, tuple[float, float, int]]:
    """{theme id: (mean impact, mean feasibility, number of scorers)} for live themes."""
    with db.read(engine) as session:
        rows = session.exec(
            select(
                Score.theme_id,
                func.avg(Score.impact),
                func.avg(Score.feasibility),
                func.count(col(Score.id)),
            )
            .join(Theme, col(Theme.id) == col(Score.theme_id))
            .where(Score.workshop_id == workshop_id, col(Theme.deleted_at).is_(None))
            .group_by(col(Score.theme_id))
        ).all()
    return {
        theme_id: (float(impact), float(feasibility), int(n))
        for theme_id, impact, feasibility, n in rows
    }
