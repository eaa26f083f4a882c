"""The live dashboard's data: built once per change of the workshop, shared by every tab.

`version()` is one indexed query (the newest audit event of the workshop: every command
writes one), shared by all tabs for half a second. `latest()` hands every tab the newest
snapshot built in this process: when the workshop has changed, the first tab to notice
rebuilds it while the others keep showing the previous one, so hundreds of tabs never
build at once. Charts are plain plotly specs (see models/charts.py) handed to every tab
as is, so a tab's chart costs one JSON encoding rather than plotly's validation and copy.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
from sqlalchemy import text
from sqlalchemy.engine import Engine

from models import chart_tables, charts, issues, ranking, stats, thai

CHARTS = (
    "by_domain",
    "participation",
    "top_themes",
    "bubble",
    "by_group",
    "words",
    "heatmap",
)
# Shown across the whole page: a group × domain grid needs the width for its column
# headers (in half a 1366 px screen, four Thai domain names ran into one another).
WIDE = frozenset({"heatmap"})
# The others, two by two in one row (pages/overview.py), in CHARTS's order: each pair's
# titles take as many lines (charts.align_titles), so their plots start level.
PAIRS = tuple(zip(*[iter(name for name in CHARTS if name not in WIDE)] * 2, strict=True))


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


# An open dashboard's refresh, which also checks the room (phase, reveal, countdown): a
# change shows within this plus VERSION_TTL, under the 3 s every open screen must follow
# in. One timer per tab: a second, separate check cost as much as this shorter interval.
REFRESH_SECONDS = 2.4
MIN_REBUILD_SECONDS = 1.0  # under a stream of changes, rebuild at most this often
REBUILD_SHARE = 0.2  # ...and spend at most this share of the time rebuilding (big workshops)
MAX_REBUILD_PAUSE = 5.0  # but never show a change later than this (plus one refresh)


class FrozenFigure(go.Figure):
    """A chart's ready plotly spec in the type `st.plotly_chart` takes without validating it
    again: it asks each session for `to_dict()`, which hands out the one shared spec.
    The figure itself stays empty (cheap); never mutate the spec."""

    def __init__(self, spec: charts.Spec) -> None:
        super().__init__()
        self._frozen = spec

    def to_dict(self) -> dict[str, Any]:
        return self._frozen


@dataclass(frozen=True)
class Snapshot:
    """What the dashboard shows for one version of the workshop."""

    summary: stats.Summary
    theme_count: int
    votes_cast: int
    figures: dict[str, go.Figure]
    version: int = 0
    # Each chart's summary and rows, from the same data as its figure (no query more).
    tables: dict[str, chart_tables.ChartTable] = field(default_factory=dict)


@functools.lru_cache(maxsize=64)
def snapshot(engine: Engine, workshop_id: int, at_version: int, lang: str) -> Snapshot:
    """Every dashboard figure for one version (shared by all tabs: callers must not mutate)."""
    summary = stats.summary(engine, workshop_id)
    ranked = ranking.rank(engine, workshop_id)
    visible = [
        i.statement for i in issues.workshop_issues(engine, workshop_id) if i.hidden_reason is None
    ]
    words = word_frequencies(visible)
    specs = {
        "by_domain": charts.issues_by_domain_spec(summary, lang),
        "by_group": charts.issues_by_group_spec(summary, lang),
        "heatmap": charts.group_domain_heatmap_spec(summary, lang),
        "participation": charts.participation_spec(summary, lang),
        "top_themes": charts.top_themes_spec(ranked, lang),
        "bubble": charts.impact_feasibility_spec(ranked, lang),
        "words": charts.frequent_words_spec(words, lang),
    }
    for pair in PAIRS:
        charts.align_titles([specs[name] for name in pair])
    frozen: dict[str, go.Figure] = {name: FrozenFigure(spec) for name, spec in specs.items()}
    return Snapshot(
        summary,
        len(ranked),
        sum(r.votes for r in ranked),
        frozen,
        at_version,
        tables=chart_tables.dashboard_tables(summary, ranked, words, lang),
    )


@functools.lru_cache(maxsize=50_000)
def _chart_words(statement: str) -> tuple[str, ...]:
    """Tokenising is most of a rebuild's cost; a statement is tokenised once per process."""
    return tuple(thai.chart_words(statement))


def word_frequencies(texts: list[str], *, top: int = 20) -> list[tuple[str, int]]:
    """`thai.word_frequencies`, over cached tokens (same words, same order)."""
    counts = Counter(w for text in texts for w in _chart_words(text))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]


@dataclass
class _Live:
    """The newest snapshot of one workshop in one language, and who is rebuilding it."""

    shown: Snapshot | None = None
    started: float = float("-inf")  # when the last rebuild began
    cost: float = 0.0  # how long it took, in seconds
    lock: threading.Lock = field(default_factory=threading.Lock)


_lives: dict[tuple[int, int, str], _Live] = {}
_lives_lock = threading.Lock()


def _live(engine: Engine, workshop_id: int, lang: str) -> _Live:
    key = (id(engine), workshop_id, lang)
    with _lives_lock:
        if key not in _lives:
            _lives[key] = _Live()
        return _lives[key]


def latest(engine: Engine, workshop_id: int, lang: str) -> Snapshot:
    """The newest snapshot for an open dashboard, without making every tab wait for a rebuild.

    Only the first tab to notice a change rebuilds, at most every MIN_REBUILD_SECONDS (or
    less often if rebuilding would take more than REBUILD_SHARE of the time); meanwhile
    the others get the previous snapshot.
    """
    live = _live(engine, workshop_id, lang)
    current = version(engine, workshop_id)
    shown = live.shown
    pause = min(MAX_REBUILD_PAUSE, max(MIN_REBUILD_SECONDS, live.cost / REBUILD_SHARE))
    if shown is not None and (shown.version == current or time.monotonic() - live.started < pause):
        return shown
    if not live.lock.acquire(blocking=shown is None):
        return shown  # type: ignore[return-value]  # someone is rebuilding: show what we have
    try:
        if live.shown is not None and live.shown.version == current:
            return live.shown  # rebuilt while this tab waited for the first build
        first = live.shown is None
        live.started = time.monotonic()
        live.shown = snapshot(engine, workshop_id, current, lang)
        # A process's first build also pays one-time imports and the tokeniser's loading:
        # it must not hold the next change back for seconds.
        live.cost = 0.0 if first else time.monotonic() - live.started
        return live.shown
    finally:
        live.lock.release()
