"""The live dashboard's data: built once per change of the workshop, shared by every tab.

`version()` is one indexed query (the newest audit event of the workshop: every command
writes one), so an open dashboard asks only that while nothing changes; the figures for
a version are built once per process and handed to every session showing it.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import plotly.graph_objects as go
from sqlalchemy import text
from sqlalchemy.engine import Engine

from models import charts, issues, ranking, stats, thai

CHARTS = (
    "by_domain",
    "by_group",
    "heatmap",
    "participation",
    "top_themes",
    "bubble",
    "words",
)


VERSION_TTL = 0.5  # seconds: all open tabs in this process share one query per half second
_versions: dict[tuple[int, int], tuple[float, int]] = {}


def version(engine: Engine, workshop_id: int, *, max_age: float = VERSION_TTL) -> int:
    """Changes whenever anything in the workshop changes (0 for a workshop never touched).

    Hundreds of tabs ask every few seconds; the answer is shared for `max_age` seconds,
    which delays what the room sees by at most that.
    """
    key = (id(engine), workshop_id)
    now = time.monotonic()
    cached = _versions.get(key)
    if cached is not None and now - cached[0] < max_age:
        return cached[1]
    with engine.connect() as conn:
        newest = conn.execute(_NEWEST, {"workshop_id": workshop_id}).scalar()
    _versions[key] = (now, int(newest or 0))
    return int(newest or 0)


_NEWEST = text("SELECT max(id) FROM audit_event WHERE workshop_id = :workshop_id")


@dataclass(frozen=True)
class Snapshot:
    """What the dashboard shows for one version of the workshop."""

    summary: stats.Summary
    theme_count: int
    votes_cast: int
    figures: dict[str, go.Figure]


@functools.lru_cache(maxsize=64)
def snapshot(engine: Engine, workshop_id: int, at_version: int, lang: str) -> Snapshot:
    """Every dashboard figure for one version (shared by all tabs: callers must not mutate)."""
    del at_version  # part of the cache key only
    summary = stats.summary(engine, workshop_id)
    ranked = ranking.rank(engine, workshop_id)
    visible = [
        i.statement for i in issues.workshop_issues(engine, workshop_id) if i.hidden_reason is None
    ]
    figures = {
        "by_domain": charts.issues_by_domain(summary, lang),
        "by_group": charts.issues_by_group(summary, lang),
        "heatmap": charts.group_domain_heatmap(summary, lang),
        "participation": charts.participation(summary, lang),
        "top_themes": charts.top_themes(ranked, lang),
        "bubble": charts.impact_feasibility(ranked, lang),
        "words": charts.frequent_words(thai.word_frequencies(visible), lang),
    }
    return Snapshot(summary, len(ranked), sum(r.votes for r in ranked), figures)
