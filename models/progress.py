"""Room progress at a glance: what each group has done so far, for the facilitator and
the projector.

Per group: issues entered in each domain, votes used of the budget, recommendations
proposed. Three grouped counts (no rows loaded), built once per workshop version
(`models.views.version`) and shared by every session showing that version.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models import db
from models.errors import NotFound
from models.schema import BreakoutGroup, Domain, Issue, Recommendation, Theme, Vote, Workshop


@dataclass(frozen=True)
class GroupProgress:
    group_id: int
    name: str
    issues: dict[int, int]  # domain id -> issues entered (live; hidden ones count too)
    votes_used: int  # on live themes, as the group's budget counts them
    recommendations: int  # proposed by the group, any status

    @property
    def issue_total(self) -> int:
        return sum(self.issues.values())


@dataclass(frozen=True)
class Progress:
    domains: tuple[tuple[int, str, str], ...]  # (id, name, English name), in order
    groups: tuple[GroupProgress, ...]  # in the groups' order
    vote_budget: int

    @property
    def started(self) -> int:
        """Groups that have entered at least one issue."""
        return sum(1 for g in self.groups if g.issue_total)

    @property
    def voted(self) -> int:
        """Groups that have cast at least one vote."""
        return sum(1 for g in self.groups if g.votes_used)

    def rows(self, domain_labels: dict[int, str]) -> list[dict[str, object]]:
        """One row per group for a table: name, a count per domain (by label), total,
        votes as "used/budget" and recommendations. Zero shows as "·" so the gaps stand out."""
        out = []
        for group in self.groups:
            row: dict[str, object] = {"group": group.name}
            for domain_id, _, _ in self.domains:
                count = group.issues.get(domain_id, 0)
                row[domain_labels.get(domain_id, str(domain_id))] = count or "·"
            row["total"] = group.issue_total
            row["votes"] = f"{group.votes_used}/{self.vote_budget}"
            row["recommendations"] = group.recommendations
            out.append(row)
        return out


def progress(engine: Engine, workshop_id: int) -> Progress:
    """The room's progress now (see `at_version` for the shared, cached form)."""
    with db.read(engine) as session:
        workshop = session.get(Workshop, workshop_id)
        if workshop is None:
            raise NotFound("workshop")
        groups = session.exec(
            select(BreakoutGroup.id, BreakoutGroup.name)
            .where(BreakoutGroup.workshop_id == workshop_id)
            .order_by(col(BreakoutGroup.position), col(BreakoutGroup.id))
        ).all()
        domains = session.exec(
            select(Domain.id, Domain.name, Domain.name_en)
            .where(Domain.workshop_id == workshop_id)
            .order_by(col(Domain.position), col(Domain.id))
        ).all()
        issue_counts = session.exec(
            select(Issue.group_id, Issue.domain_id, func.count())
            .where(Issue.workshop_id == workshop_id, col(Issue.deleted_at).is_(None))
            .group_by(col(Issue.group_id), col(Issue.domain_id))
        ).all()
        vote_counts = session.exec(
            select(Vote.group_id, func.sum(Vote.count))
            .join(Theme, col(Theme.id) == col(Vote.theme_id))
            .where(Vote.workshop_id == workshop_id, col(Theme.deleted_at).is_(None))
            .group_by(col(Vote.group_id))
        ).all()
        rec_counts = session.exec(
            select(Recommendation.proposed_by_group_id, func.count())
            .where(
                Recommendation.workshop_id == workshop_id,
                col(Recommendation.proposed_by_group_id).is_not(None),
            )
            .group_by(col(Recommendation.proposed_by_group_id))
        ).all()
        budget = workshop.vote_budget
    issues: dict[int, dict[int, int]] = {}
    for group_id, domain_id, count in issue_counts:
        issues.setdefault(group_id, {})[domain_id] = int(count)
    used = {group_id: int(total or 0) for group_id, total in vote_counts}
    proposed = {group_id: int(count) for group_id, count in rec_counts}
    return Progress(
        domains=tuple((d_id, name, name_en) for d_id, name, name_en in domains),  # type: ignore[misc]
        groups=tuple(
            GroupProgress(
                group_id=g_id,  # type: ignore[arg-type]
                name=name,
                issues=issues.get(g_id, {}),  # type: ignore[arg-type]
                votes_used=used.get(g_id, 0),  # type: ignore[arg-type]
                recommendations=proposed.get(g_id, 0),  # type: ignore[arg-type]
            )
            for g_id, name in groups
        ),
        vote_budget=budget,
    )


@functools.lru_cache(maxsize=16)
def at_version(engine: Engine, workshop_id: int, version: tuple[int, str]) -> Progress:
    """`progress` for one workshop version: every facilitator tab and the projector share it.

    Every command writes an audit event, so a new issue, vote or proposal is a new version.
    """
    del version  # part of the cache key only
    return progress(engine, workshop_id)
