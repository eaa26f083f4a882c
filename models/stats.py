"""Counts for the overview and the dashboard, computed by the database in one query."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models import db
from models.schema import BreakoutGroup, Domain, Issue


@dataclass(frozen=True)
class Summary:
    """Issue counts as a group × domain table (rows and columns in the workshop's order)."""

    counts: pd.DataFrame  # index: group name, columns: domain id
    domains: list[Domain]

    # Counted once per summary: the live dashboard reads them on every refresh of every tab.
    @functools.cached_property
    def issue_count(self) -> int:
        return int(self.counts.to_numpy().sum())

    @property
    def group_count(self) -> int:
        return len(self.counts.index)

    @functools.cached_property
    def active_groups(self) -> int:
        return int((self.counts.sum(axis=1) > 0).sum())

    def domain_label(self, domain: Domain, lang: str) -> str:
        return domain.name_en if lang == "en" and domain.name_en else domain.name

    def by_domain(self, lang: str) -> pd.Series:
        totals = self.counts.sum(axis=0)
        return pd.Series(
            [int(totals.get(d.id, 0)) for d in self.domains],
            index=[self.domain_label(d, lang) for d in self.domains],
        )

    def by_group(self) -> pd.Series:
        return self.counts.sum(axis=1).astype(int)


def summary(engine: Engine, workshop_id: int) -> Summary:
    with db.read(engine) as session:
        groups = list(
            session.exec(
                select(BreakoutGroup)
                .where(BreakoutGroup.workshop_id == workshop_id)
                .order_by(col(BreakoutGroup.position), col(BreakoutGroup.id))
            )
        )
        domains = list(
            session.exec(
                select(Domain)
                .where(Domain.workshop_id == workshop_id)
                .order_by(col(Domain.position), col(Domain.id))
            )
        )
        rows = session.exec(
            select(Issue.group_id, Issue.domain_id, func.count())
            .where(Issue.workshop_id == workshop_id, col(Issue.deleted_at).is_(None))
            .group_by(col(Issue.group_id), col(Issue.domain_id))
        ).all()
    counts = pd.DataFrame(
        0, index=[g.id for g in groups], columns=[d.id for d in domains], dtype=int
    )
    for group_id, domain_id, n in rows:
        counts.loc[group_id, domain_id] = n
    counts.index = pd.Index([g.name for g in groups], name="group")
    return Summary(counts=counts, domains=domains)
