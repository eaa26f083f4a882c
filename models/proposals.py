"""Machine suggestions kept until a facilitator accepts or dismisses them.

Two kinds: the themes "suggest themes" proposes (models.suggest.suggest_for_workshop)
and "sort the rest" (models.suggest.sort_for_workshop: each ungrouped issue proposed for
its nearest theme, with a confidence). Each is stored per workshop, one pending proposal
of each kind, with the board version (newest audit event id) it was made at, so a page
reload and a second facilitator's board show the same proposal.

Audit. The proposal itself is derived data: the issues' vectors make it again, backups
leave it out, and it changes no issue or theme. Making one still writes one audit event
(`suggest.propose`, `suggest.propose_sort`) with a summary and no rows, so nothing to
undo, because (1) every open staff screen follows the room by the workshop's version
(pages/_live.py): the event is what brings the proposal onto a colleague's board
within seconds rather than at their next click; (2) the proposal then changes only with
the version, so the board caches it per version (`current`) and reads no table on its
reruns; (3) the log says who ran which model when. Accepting and applying are board
commands (one transaction, one undoable event, the proposal marked in the same
transaction); dismissing is one event that nothing undoes.

A proposal whose issues have moved since is shown with what still applies
(`review_themes`, `review_sort`); the commands refuse rather than move an issue someone
else has grouped meanwhile.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import audit, db, embeddings, suggest, themes, views
from models.errors import DomainError, NotFound
from models.schema import AuditEvent, Proposal, Theme, Workshop

THEMES = "themes"
SORT = "sort"
KINDS = (THEMES, SORT)
PENDING, ACCEPTED, DISMISSED = "pending", "accepted", "dismissed"


@dataclass(frozen=True)
class Stored:
    """A pending proposal as the board reads it (shared between sessions: do not mutate)."""

    id: int
    kind: str
    board_version: int
    made_by: str
    backend: str
    created_at: dt.datetime
    payload: Mapping[str, Any]

    @functools.cached_property  # built once per version, shared: callers must not mutate
    def suggestions(self) -> suggest.Suggestions:
        """The themes of a "suggest themes" proposal, as models.suggest made them."""
        data = self.payload
        found = [
            suggest.SuggestedTheme(
                label=t["name"] or suggest.LABEL_SEPARATOR.join(t["keywords"]),
                keywords=list(t["keywords"]),
                issue_ids=[int(i) for i in t["issue_ids"]],
                central_id=int(t["central_id"]),
                domain=t.get("domain"),
                name=t["name"],
            )
            for t in data.get("themes", [])
        ]
        return suggest.Suggestions(
            found, int(data.get("k", len(found))), bool(data.get("automatic")), self.backend,
            str(data.get("fallback", "")),
        )  # fmt: skip

    @functools.cached_property
    def pairs(self) -> list[tuple[int, int, float]]:
        """Likely duplicates found with the themes: (earlier id, later id, similarity)."""
        return [(int(a), int(b), float(s)) for a, b, s in self.payload.get("pairs", [])]

    @functools.cached_property
    def placements(self) -> list[suggest.Placement]:
        """Every issue of a "sort the rest" proposal: its theme (None: unsure) and confidence."""
        return [
            suggest.Placement(int(i), None if t is None else int(t), float(c))
            for i, t, c in self.payload.get("placements", [])
        ]

    @property
    def threshold(self) -> float:
        return float(self.payload.get("threshold", suggest.SORT_THRESHOLD))


# --- reading ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def current(engine: Engine, workshop_id: int, at_version: views.Version) -> dict[str, Stored]:
    """The pending proposals by kind, as of one workshop version (one query per version).

    Pending: neither accepted nor dismissed, or accepted by an event since undone.
    """
    del at_version  # part of the cache key only: every change of a proposal is an event
    with db.read(engine) as session:
        rows = session.exec(
            select(Proposal, AuditEvent.undone_at)
            .join(AuditEvent, col(AuditEvent.id) == Proposal.resolved_event_id, isouter=True)
            .where(Proposal.workshop_id == workshop_id)
            .order_by(col(Proposal.id))
        ).all()
    found: dict[str, Stored] = {}
    for row, undone_at in rows:  # the newest of each kind wins
        pending = row.status == PENDING or (row.status == ACCEPTED and undone_at is not None)
        if pending:
            found[row.kind] = Stored(
                row.id,  # type: ignore[arg-type]
                row.kind,
                row.board_version,
                row.made_by,
                row.backend,
                row.created_at,
                row.payload,
            )
        else:
            found.pop(row.kind, None)
    return found


@dataclass(frozen=True)
class ThemesReview:
    """What of a "suggest themes" proposal still applies to the board."""

    themes: list[tuple[int, suggest.SuggestedTheme]]  # (index in the proposal, still ungrouped)
    gone: int  # proposed issues grouped, hidden or deleted since


def review_themes(stored: Stored, ungrouped: set[int]) -> ThemesReview:
    """Each suggested theme with only the issues still ungrouped; empty themes left out."""
    kept, gone = [], 0
    for n, theme in enumerate(stored.suggestions.themes):
        still = [i for i in theme.issue_ids if i in ungrouped]
        gone += len(theme.issue_ids) - len(still)
        if still:
            central = theme.central_id if theme.central_id in still else still[0]
            kept.append((n, replace(theme, issue_ids=still, central_id=central)))
    return ThemesReview(kept, gone)


@dataclass(frozen=True)
class SortReview:
    """What of a "sort the rest" proposal still applies to the board."""

    by_theme: dict[int, list[suggest.Placement]]  # theme id -> placements, surest first
    unsure: list[suggest.Placement]  # below the threshold: they stay unsorted
    gone: int  # issues grouped, hidden or deleted since, or whose theme was removed

    @property
    def proposed(self) -> int:
        return sum(len(p) for p in self.by_theme.values())


def review_sort(stored: Stored, ungrouped: set[int], theme_ids: Sequence[int]) -> SortReview:
    """The placements still possible, by theme in the board's order."""
    live = set(theme_ids)
    by_theme: dict[int, list[suggest.Placement]] = {t: [] for t in theme_ids}
    unsure: list[suggest.Placement] = []
    gone = 0
    for placement in stored.placements:
        if placement.issue_id not in ungrouped:
            gone += 1
        elif placement.theme_id is None:
            unsure.append(placement)
        elif placement.theme_id not in live:
            gone += 1
        else:
            by_theme[placement.theme_id].append(placement)
    for placements in by_theme.values():
        placements.sort(key=lambda p: (-p.confidence, p.issue_id))
    unsure.sort(key=lambda p: (-p.confidence, p.issue_id))
    return SortReview({t: p for t, p in by_theme.items() if p}, unsure, gone)


# --- making a proposal --------------------------------------------------------------------


def _store(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    kind: str,
    board_version: int,
    backend: str,
    payload: dict[str, Any],
    summary: dict[str, Any],
) -> Stored:
    """Replace the workshop's proposal of this kind; one event (see the module's docstring)."""
    with db.write(engine) as session:
        if session.get(Workshop, workshop_id) is None:  # any phase: it changes nothing
            raise NotFound("workshop")
        for old in session.exec(
            select(Proposal).where(Proposal.workshop_id == workshop_id, Proposal.kind == kind)
        ):
            session.delete(old)
        row = Proposal(
            workshop_id=workshop_id,
            kind=kind,
            board_version=board_version,
            made_by=actor,
            backend=backend,
            payload=payload,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="suggest.propose" if kind == THEMES else "suggest.propose_sort",
            workshop_id=workshop_id,
            after={"kind": kind, "backend": backend, **summary},
        )
        return Stored(
            row.id,  # type: ignore[arg-type]
            kind,
            board_version,
            actor,
            backend,
            row.created_at,
            payload,
        )


def propose_themes(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    k: int | None = None,
    within_domain: bool = False,
) -> Stored:
    """Suggest themes for the ungrouped issues (and likely duplicates) and keep them."""
    version = views.version(engine, workshop_id)[0]
    result = suggest.suggest_for_workshop(engine, workshop_id, k=k, within_domain=within_domain)
    pairs = suggest.duplicates_for_workshop(engine, workshop_id)
    payload: dict[str, Any] = {
        "k": result.k,
        "automatic": result.automatic,
        "fallback": result.fallback,
        "themes": [
            {  # a domain is its id (or None): JSON keeps it as it is
                "name": t.name or t.label,
                "keywords": list(t.keywords),
                "issue_ids": [int(i) for i in t.issue_ids],
                "central_id": int(t.central_id),
                "domain": t.domain,
            }
            for t in result.themes
        ],
        "pairs": [[int(p.first.id), int(p.second.id), round(p.score, 4)] for p in pairs],  # type: ignore[arg-type]
    }
    issues = sum(len(t.issue_ids) for t in result.themes)
    return _store(
        engine,
        actor=actor,
        workshop_id=workshop_id,
        kind=THEMES,
        board_version=version,
        backend=result.backend,
        payload=payload,
        summary={"themes": len(result.themes), "issues": issues},
    )


def can_sort(board: themes.Board) -> bool:
    """ "Sort the rest" needs a theme with members (the seeds) and an ungrouped issue."""
    return bool(board.ungrouped) and any(view.issues for view in board.themes)


def propose_sort(
    engine: Engine, *, actor: str, workshop_id: int, threshold: float | None = None
) -> Stored:
    """Propose a theme for every ungrouped issue from the themes' members, and keep it."""
    version = views.version(engine, workshop_id)[0]
    threshold = suggest.SORT_THRESHOLD if threshold is None else float(threshold)
    placements = suggest.sort_for_workshop(engine, workshop_id, threshold=threshold)
    if not placements:
        raise DomainError("error.proposal.nothing_to_sort")
    payload: dict[str, Any] = {
        "threshold": threshold,
        "placements": [[p.issue_id, p.theme_id, round(p.confidence, 4)] for p in placements],
    }
    sorted_count = sum(1 for p in placements if p.theme_id is not None)
    return _store(
        engine,
        actor=actor,
        workshop_id=workshop_id,
        kind=SORT,
        board_version=version,
        backend=embeddings.backend().name,
        payload=payload,
        summary={"issues": len(placements), "sorted": sorted_count},
    )


# --- deciding -----------------------------------------------------------------------------


def _pending(session: Session, workshop_id: int, proposal_id: int, kind: str) -> Proposal:
    """The proposal, locked, if still pending; a colleague may have decided it meanwhile."""
    row = session.exec(select(Proposal).where(Proposal.id == proposal_id).with_for_update()).first()
    if row is None or row.workshop_id != workshop_id or row.kind != kind:
        raise DomainError("error.proposal.gone")
    if row.status == ACCEPTED and row.resolved_event_id is not None:
        event = session.get(AuditEvent, row.resolved_event_id)
        if event is not None and event.undone_at is not None:
            return row  # its acceptance was undone: pending again
    if row.status != PENDING:
        raise DomainError("error.proposal.gone")
    return row


def _resolve(session: Session, row: Proposal, status: str, event: AuditEvent | None) -> None:
    session.flush()  # the event's id
    row.status = status
    row.resolved_event_id = event.id if event is not None else None
    session.add(row)


def accept_themes(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    proposal_id: int,
    accepted: Sequence[suggest.Accepted],
) -> list[Theme]:
    """Create the accepted themes with their issues and close the proposal: one transaction,
    one undoable `suggest.accept` event (undoing it brings the proposal back).

    Refuses (error.suggest.stale) when an issue has meanwhile been grouped, hidden or
    deleted, rather than move it out of the theme someone put it in.
    """
    chosen, titles = suggest.checked(accepted)
    with db.write(engine) as session:
        themes._workshop(session, workshop_id)
        row = _pending(session, workshop_id, proposal_id, THEMES)
        created, event = suggest.create_accepted(
            session, actor=actor, workshop_id=workshop_id, chosen=chosen, titles=titles
        )
        _resolve(session, row, ACCEPTED, event)
    return created


def apply_sort(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    proposal_id: int,
    moves: Mapping[int, int],
) -> int:
    """Move each chosen issue (`moves`: issue id -> theme id, as proposed) into its theme:
    one transaction, one `suggest.sort` event that one undo takes back whole.

    Refuses (error.suggest.stale) when an issue was grouped, hidden or deleted meanwhile, a
    theme was removed, or a move is not the one proposed. Returns how many issues moved.
    """
    if not moves:
        raise DomainError("error.proposal.none")
    wanted = {int(i): int(t) for i, t in moves.items()}
    with db.write(engine) as session:
        themes._workshop(session, workshop_id)
        row = _pending(session, workshop_id, proposal_id, SORT)
        proposed = {int(i): t for i, t, _ in row.payload.get("placements", [])}
        if any(proposed.get(i) != t for i, t in wanted.items()):
            raise DomainError("error.suggest.stale")
        live = set(
            session.exec(
                select(Theme.id).where(
                    col(Theme.id).in_(set(wanted.values())),
                    Theme.workshop_id == workshop_id,
                    col(Theme.deleted_at).is_(None),
                )
            )
        )
        if set(wanted.values()) - live:
            raise DomainError("error.suggest.stale")
        found = suggest.ungrouped(session, workshop_id, list(wanted))
        changes = audit.Changes()
        for issue_id in sorted(wanted):
            themes._assign(changes, [found[issue_id]], wanted[issue_id])
        event = audit.record(
            session,
            actor=actor,
            action="suggest.sort",
            workshop_id=workshop_id,
            entity="theme",
            changes=changes,
        )
        _resolve(session, row, ACCEPTED, event)
    return len(wanted)


def dismiss(engine: Engine, *, actor: str, workshop_id: int, proposal_id: int) -> None:
    """Close a proposal unused (one `suggest.dismiss` event; it can be made again)."""
    with db.write(engine) as session:
        row = session.get(Proposal, proposal_id)
        if row is None or row.workshop_id != workshop_id:
            raise DomainError("error.proposal.gone")
        row = _pending(session, workshop_id, proposal_id, row.kind)
        event = audit.record(
            session,
            actor=actor,
            action="suggest.dismiss",
            workshop_id=workshop_id,
            after={"kind": row.kind},
        )
        _resolve(session, row, DISMISSED, event)
