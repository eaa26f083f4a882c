"""Read models for the busiest pages, built once per change of the workshop and shared.

A group's issue page and the facilitator's board rerun on every click; with 2,000
issues, loading them as ORM objects (≈0.15 ms each) and comparing statements for
duplicate hints cost seconds per rerun. Here they are built once per workshop version
(`version`: the newest audit event, which every command writes) and
handed to every session that shows that version. Callers must not mutate what they get.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models import db, embeddings, ranking, suggest, themes, undo, workshops
from models.schema import AuditEvent, BreakoutGroup, Domain, Issue, Workshop

# The columns a page shows or compares; the ORM is skipped (plain rows are ~20× faster).
_COLUMNS = (
    "id",
    "group_id",
    "domain_id",
    "statement",
    "cause",
    "impact",
    "affected",
    "fix",
    "theme_id",
    "duplicate_of_id",
    "hidden_reason",
    "created_at",
    "vector",
)


@dataclass(frozen=True)
class IssueRow:
    """A live issue as the pages read it (same attribute names as `Issue`)."""

    id: int
    group_id: int
    domain_id: int
    statement: str
    cause: str
    impact: str
    affected: str
    fix: str
    theme_id: int | None
    duplicate_of_id: int | None
    hidden_reason: str | None
    created_at: dt.datetime
    vector: bytes | None


Version = tuple[int, str]


def version(engine: Engine, workshop_id: int) -> Version:
    """The workshop's version, read now (a page must show its own last command at once).

    The newest audit event's id and time: every command writes one. The time tells apart
    two databases whose ids start again (a restored file, PostgreSQL test runs).
    """
    with engine.connect() as conn:
        row = conn.execute(_NEWEST, {"workshop_id": workshop_id}).first()
    return (int(row[0]), str(row[1])) if row else (0, "")


_NEWEST = text(
    "SELECT id, created_at FROM audit_event WHERE workshop_id = :workshop_id "
    "ORDER BY id DESC LIMIT 1"
)


@functools.lru_cache(maxsize=64)
def workshop(engine: Engine, workshop_id: int, at_version: Version) -> Workshop:
    """The workshop row as of one version (every page reads it on every rerun)."""
    del at_version
    return workshops.get_workshop(engine, workshop_id=workshop_id)


@functools.lru_cache(maxsize=16)
def parts(
    engine: Engine, workshop_id: int, at_version: Version
) -> tuple[tuple[BreakoutGroup, ...], tuple[Domain, ...]]:
    """The workshop's groups and domains, in their order (renaming one is a command too)."""
    del at_version
    return (
        tuple(workshops.list_groups(engine, workshop_id)),
        tuple(workshops.list_domains(engine, workshop_id)),
    )


@functools.lru_cache(maxsize=8)
def issue_rows(engine: Engine, workshop_id: int, at_version: Version) -> tuple[IssueRow, ...]:
    """Every live (not deleted) issue of the workshop, oldest first."""
    del at_version  # part of the cache key only
    columns = [getattr(Issue, name) for name in _COLUMNS]
    with db.read(engine) as session:
        rows = session.exec(
            select(*columns)
            .where(Issue.workshop_id == workshop_id, col(Issue.deleted_at).is_(None))
            .order_by(col(Issue.id))
        ).all()
    return tuple(IssueRow(*row) for row in rows)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per version
class GroupView:
    """What a group's issue page shows."""

    mine: tuple[IssueRow, ...]  # newest first, hidden ones too (with the moderator's note)
    others: tuple[IssueRow, ...]  # other groups' visible issues; none before the reveal
    hints: dict[int, list[suggest.Similar]]  # our issue id -> other groups' close statements
    group_id: int = 0
    source: tuple[Engine, int, Version] | None = None  # what `draft_hints` compares with


def group_view(
    engine: Engine, workshop_id: int, group_id: int, revealed: bool, at_version: Version
) -> GroupView:
    """What the group's page shows at `at_version`. While a slow model is still loading
    (the first minute after a start) the hints wait for it, not the page: the view is
    built without them, and once more when the model is there."""
    ready = not embeddings.loading()
    return _group_view(engine, workshop_id, group_id, revealed, at_version, ready)


@functools.lru_cache(maxsize=64)
def _group_view(
    engine: Engine,
    workshop_id: int,
    group_id: int,
    revealed: bool,
    at_version: Version,
    model_ready: bool,
) -> GroupView:
    rows = issue_rows(engine, workshop_id, at_version)
    newest_first = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)
    mine = tuple(r for r in newest_first if r.group_id == group_id)
    others = (
        tuple(r for r in newest_first if r.group_id != group_id and r.hidden_reason is None)
        if revealed
        else ()
    )
    hints = (
        suggest.similar_among(mine, others)  # type: ignore[arg-type]
        if mine and others and model_ready
        else {}
    )
    return GroupView(mine, others, hints, group_id, (engine, workshop_id, at_version))


# A draft shorter than this says too little to be compared (a word or two matches anything).
DRAFT_MIN_CHARS = 8


@functools.lru_cache(maxsize=4)
def _hint_pool(
    engine: Engine, workshop_id: int, at_version: Version
) -> tuple[tuple[IssueRow, ...], np.ndarray | None, np.ndarray]:
    """Every visible issue with a vector from the current backend, oldest first, their
    groups, and (dense models) their unit rows: stacked once per version for all groups
    (float32: 2,000 EmbeddingGemma rows are 6 MB), not once per group or pause in typing."""
    backend = embeddings.backend()
    usable = tuple(
        r
        for r in issue_rows(engine, workshop_id, at_version)
        if r.hidden_reason is None and backend.fits(r.vector, r.statement)
    )
    matrix = None
    if backend.dense and usable:
        matrix = backend.rows([r.vector for r in usable]).astype(np.float32)  # type: ignore[misc]
    return usable, matrix, np.array([r.group_id for r in usable], dtype=np.int64)


def draft_hints(view: GroupView, draft: str, *, limit: int = 3) -> list[suggest.Similar]:
    """Other groups' statements close to what a group is still typing (not stored).

    Empty before the reveal (`view.others` is empty then), for a draft too short to mean
    much, and while a slow model is still loading (the hint must not wait for it).
    """
    draft = draft.strip()
    if len(draft) < DRAFT_MIN_CHARS or not view.others or embeddings.loading():
        return []
    assert view.source is not None
    pool, matrix, groups = _hint_pool(*view.source)
    theirs = np.flatnonzero(groups != view.group_id)
    if not len(theirs):
        return []
    backend = embeddings.backend()
    query = embeddings.query_vector(draft)
    if query is None:
        return []
    if matrix is not None:
        scores = (matrix @ backend.rows([query])[0].astype(np.float32))[theirs]
    else:
        scores = backend.similarity([query], [pool[i].vector for i in theirs])[0]  # type: ignore[misc]
    order = np.argsort(-scores, kind="stable")[:limit]  # ties: the older issue first
    return [
        suggest.Similar(pool[theirs[i]], float(scores[i]))  # type: ignore[arg-type]
        for i in order
        if scores[i] >= backend.duplicate_threshold
    ]


@functools.lru_cache(maxsize=64)
def others_table(
    engine: Engine,
    workshop_id: int,
    group_id: int,
    view: GroupView,
    groups: tuple[tuple[int, str], ...],
    domains: tuple[tuple[int, str], ...],
) -> pd.DataFrame:
    """Other groups' issues as a table (group, domain, statement), newest first.

    `view` is compared by identity (one object per version); `groups` and `domains` are
    (id, name) in the session's language.
    """
    del engine, workshop_id, group_id  # with `view`, they key the cache
    names, labels = dict(groups), dict(domains)
    return pd.DataFrame(
        [
            (names.get(r.group_id, ""), labels.get(r.domain_id, ""), r.statement)
            for r in view.others
        ],
        columns=["group", "domain", "statement"],
    )


@functools.lru_cache(maxsize=8)
def board(engine: Engine, workshop_id: int, at_version: Version) -> themes.Board:
    """`themes.board` for one version of the workshop."""
    del at_version
    return themes.board(engine, workshop_id)


@functools.lru_cache(maxsize=8)
def board_table(
    engine: Engine, workshop_id: int, at_version: Version, domains: tuple[tuple[int, str], ...]
) -> pd.DataFrame:
    """The board's issue table (every live, visible issue), one row per issue, by number.

    `domains` are (id, label) in the session's language. Columns starting with `_` are
    for filtering, not for showing; `_grouped` tells grouped issues from the rest.
    """
    found = board(engine, workshop_id, at_version)
    groups = {g.id: g.name for g in found.groups.values()}
    labels = dict(domains)
    titles = {v.theme.id: v.theme.title for v in found.themes}
    issues = found.ungrouped + [i for v in found.themes for i in v.issues]
    return pd.DataFrame(
        [
            {
                "no": issue.id,
                "group": groups.get(issue.group_id, ""),
                "domain": labels.get(issue.domain_id, ""),
                "statement": issue.statement,
                "theme": titles.get(issue.theme_id, ""),  # type: ignore[arg-type]
                "_group_id": issue.group_id,
                "_domain_id": issue.domain_id,
                "_grouped": issue.theme_id in titles,
            }
            for issue in sorted(issues, key=lambda i: i.id)  # type: ignore[arg-type,return-value]
        ],
        columns=[
            *("no", "group", "domain", "statement", "theme"),
            *("_group_id", "_domain_id", "_grouped"),
        ],
    )


@functools.lru_cache(maxsize=8)
def next_undo(engine: Engine, workshop_id: int, at_version: Version) -> AuditEvent | None:
    """`undo.next_undo` for one version (it reads every undoable event's JSON)."""
    del at_version
    return undo.next_undo(engine, workshop_id)


@functools.lru_cache(maxsize=8)
def ranked(engine: Engine, workshop_id: int, at_version: Version) -> list[ranking.RankedTheme]:
    """`ranking.rank` for one version (it reads the whole board: every issue)."""
    del at_version
    return ranking.rank(engine, workshop_id)
