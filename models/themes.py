"""The theme board: the facilitator turns many groups' issues into a few themes.

Every command here is one transaction with one undoable audit event (models.undo).
Issues are never deleted by grouping: merging, splitting and removing themes only
move issues between themes or back to "not grouped".

Two facilitators may work the board at once. A board command may carry `seen`, the
workshop version (newest audit event id, models.views.version) its page was drawn at:
if another staff actor changed a theme or issue the command acts on since then, the
command is refused with `error.board.changed` instead of acting on a board the user
never saw (for example merging a theme whose issues a colleague just moved out).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from models import audit, db, phases, text
from models.errors import DomainError, NotFound
from models.schema import BreakoutGroup, Issue, Recommendation, Theme, Workshop, utcnow

MAX_TITLE = 300


@dataclass
class ThemeView:
    """A theme with what the board shows about it."""

    theme: Theme
    issues: list[Issue] = field(default_factory=list)
    group_ids: set[int] = field(default_factory=set)

    @property
    def issue_count(self) -> int:
        return len(self.issues)


@dataclass
class Board:
    workshop: Workshop
    groups: dict[int, BreakoutGroup]
    themes: list[ThemeView]
    ungrouped: list[Issue]
    hidden: list[Issue]

    @property
    def group_count(self) -> int:
        return len(self.groups)


def _workshop(session: Session, workshop_id: int, action: str = "group_themes") -> Workshop:
    workshop = session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound("workshop")
    phases.require(workshop, action)
    return workshop


def _theme(session: Session, workshop_id: int, theme_id: int) -> Theme:
    theme = session.get(Theme, theme_id)
    if theme is None or theme.workshop_id != workshop_id or theme.deleted_at is not None:
        raise NotFound("theme")
    return theme


def _issues(session: Session, workshop_id: int, issue_ids: Iterable[int]) -> list[Issue]:
    wanted = set(issue_ids)
    if not wanted:
        raise DomainError("error.theme.no_issues")
    found = list(
        session.exec(
            select(Issue).where(
                col(Issue.id).in_(wanted),
                Issue.workshop_id == workshop_id,
                col(Issue.deleted_at).is_(None),
            )
        )
    )
    if len(found) != len(wanted):
        raise NotFound("issue")
    return found


def _check_unchanged(
    session: Session,
    *,
    workshop_id: int,
    seen: int | None,
    actor: str,
    themes: Iterable[int | None] = (),
    issues: Iterable[int] = (),
    members_of: Iterable[int] = (),
) -> None:
    """Refuse when someone else changed these themes/issues (or who is in `members_of`)
    after event `seen`. `seen=None` (the CLI, scripts) skips the check."""
    if seen is None:
        return
    keys = {f"theme:{t}" for t in themes if t is not None} | {f"issue:{i}" for i in issues}
    members = set(members_of)
    for event, rows in audit.staff_changes_since(session, workshop_id, seen, excluding=actor):
        for key, sides in rows.items():
            moved = key.startswith("issue:") and any(
                side is not None and side.get("theme_id") in members for side in sides
            )
            if key in keys or moved:
                raise DomainError("error.board.changed", who=event.actor)


def clean_title(value: str) -> str:
    return text.clean(
        value, field="theme_title", required=True, max_length=MAX_TITLE, multiline=False
    )


def clean_description(value: str) -> str:
    return text.clean(value, field="theme_description", max_length=4000)


def _assign(changes: audit.Changes, issues: Iterable[Issue], theme_id: int | None) -> None:
    for issue in issues:
        if issue.theme_id != theme_id:
            changes.touch(issue)
            issue.theme_id = theme_id


def _record(
    session: Session,
    actor: str,
    action: str,
    workshop_id: int,
    theme_id: int | None,
    changes: audit.Changes,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        workshop_id=workshop_id,
        entity="theme",
        entity_id=theme_id,
        changes=changes,
    )


def create_theme(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    title: str,
    description: str = "",
    issue_ids: Iterable[int] = (),
    seen: int | None = None,
) -> Theme:
    """A new theme, optionally with issues moved into it, as one undoable action."""
    title, description = clean_title(title), clean_description(description)
    issue_ids = list(issue_ids)
    with db.write(engine) as session:
        _workshop(session, workshop_id)
        _check_unchanged(session, workshop_id=workshop_id, seen=seen, actor=actor, issues=issue_ids)
        changes = audit.Changes()
        last = session.exec(
            select(Theme.position)
            .where(Theme.workshop_id == workshop_id)
            .order_by(col(Theme.position).desc())
        ).first()
        theme = Theme(
            workshop_id=workshop_id,
            title=title,
            description=description,
            position=(last or 0) + 1,
        )
        session.add(theme)
        session.flush()
        changes.created(theme)
        if issue_ids:
            _assign(changes, _issues(session, workshop_id, issue_ids), theme.id)
        _record(session, actor, "theme.create", workshop_id, theme.id, changes)
    return theme


def update_theme(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    theme_id: int,
    title: str,
    description: str = "",
    seen: int | None = None,
) -> Theme:
    title, description = clean_title(title), clean_description(description)
    with db.write(engine) as session:
        _workshop(session, workshop_id)
        theme = _theme(session, workshop_id, theme_id)
        _check_unchanged(
            session, workshop_id=workshop_id, seen=seen, actor=actor, themes=[theme_id]
        )
        changes = audit.Changes()
        changes.touch(theme)
        theme.title, theme.description = title, description
        session.add(theme)
        _record(session, actor, "theme.update", workshop_id, theme_id, changes)
    return theme


def move_issues(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    issue_ids: Iterable[int],
    theme_id: int | None,
    seen: int | None = None,
) -> int:
    """Move issues into a theme, or out of any theme with `theme_id=None`; returns how many.

    Others adding issues to the same theme meanwhile is no conflict (one facilitator per
    domain fills shared themes); the issues or the theme itself changing is.
    """
    issue_ids = list(issue_ids)
    with db.write(engine) as session:
        _workshop(session, workshop_id)
        if theme_id is not None:
            _theme(session, workshop_id, theme_id)
        _check_unchanged(
            session,
            workshop_id=workshop_id,
            seen=seen,
            actor=actor,
            themes=[theme_id],
            issues=issue_ids,
        )
        changes = audit.Changes()
        _assign(changes, _issues(session, workshop_id, issue_ids), theme_id)
        if changes:
            _record(session, actor, "issue.move", workshop_id, theme_id, changes)
        return len(changes.sides()[0]["rows"])


def merge_themes(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    source_id: int,
    target_id: int,
    seen: int | None = None,
) -> Theme:
    """Move every issue of `source` into `target`; `source` is retired (undo brings it back)."""
    if source_id == target_id:
        raise DomainError("error.theme.merge_self")
    with db.write(engine) as session:
        _workshop(session, workshop_id)
        source = _theme(session, workshop_id, source_id)
        target = _theme(session, workshop_id, target_id)
        _check_unchanged(
            session,
            workshop_id=workshop_id,
            seen=seen,
            actor=actor,
            themes=[source_id, target_id],
            members_of=[source_id],
        )
        changes = audit.Changes()
        _assign(changes, session.exec(select(Issue).where(Issue.theme_id == source_id)), target_id)
        # Recommendations follow their issues; votes stay on the retired theme (they are
        # not counted there, and undo must give each group back exactly what it cast).
        for recommendation in session.exec(
            select(Recommendation).where(Recommendation.theme_id == source_id)
        ):
            changes.touch(recommendation)
            recommendation.theme_id = target_id
        changes.touch(source)
        source.merged_into_id = target_id
        source.deleted_at = utcnow()
        session.add(source)
        _record(session, actor, "theme.merge", workshop_id, target_id, changes)
    return target


def split_theme(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    theme_id: int,
    issue_ids: Iterable[int],
    title: str,
    seen: int | None = None,
) -> Theme:
    """A new theme made of some issues of an existing one."""
    title = clean_title(title)
    issue_ids = list(issue_ids)
    with db.write(engine) as session:
        _workshop(session, workshop_id)
        original = _theme(session, workshop_id, theme_id)
        _check_unchanged(
            session,
            workshop_id=workshop_id,
            seen=seen,
            actor=actor,
            themes=[theme_id],
            issues=issue_ids,
        )
        moving = _issues(session, workshop_id, issue_ids)
        if any(issue.theme_id != theme_id for issue in moving):
            raise DomainError("error.theme.not_in_theme")
        changes = audit.Changes()
        theme = Theme(workshop_id=workshop_id, title=title, position=original.position)
        session.add(theme)
        session.flush()
        changes.created(theme)
        _assign(changes, moving, theme.id)
        _record(session, actor, "theme.split", workshop_id, theme.id, changes)
    return theme


def delete_theme(
    engine: Engine, *, actor: str, workshop_id: int, theme_id: int, seen: int | None = None
) -> None:
    """Retire a theme; its issues go back to "not grouped"."""
    with db.write(engine) as session:
        _workshop(session, workshop_id)
        theme = _theme(session, workshop_id, theme_id)
        _check_unchanged(
            session,
            workshop_id=workshop_id,
            seen=seen,
            actor=actor,
            themes=[theme_id],
            members_of=[theme_id],
        )
        changes = audit.Changes()
        _assign(changes, session.exec(select(Issue).where(Issue.theme_id == theme_id)), None)
        changes.touch(theme)
        theme.deleted_at = utcnow()
        session.add(theme)
        _record(session, actor, "theme.delete", workshop_id, theme_id, changes)


def mark_duplicates(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    original_id: int,
    duplicate_ids: Iterable[int],
    seen: int | None = None,
) -> None:
    """Mark issues as saying the same as `original`; they join its theme."""
    duplicate_ids = [i for i in duplicate_ids if i != original_id]
    with db.write(engine) as session:
        _workshop(session, workshop_id)
        _check_unchanged(
            session,
            workshop_id=workshop_id,
            seen=seen,
            actor=actor,
            issues=[original_id, *duplicate_ids],
        )
        (original,) = _issues(session, workshop_id, [original_id])
        changes = audit.Changes()
        for issue in _issues(session, workshop_id, duplicate_ids):
            changes.touch(issue)
            issue.duplicate_of_id = original_id
            issue.theme_id = original.theme_id
        _record(session, actor, "issue.duplicate", workshop_id, original.theme_id, changes)


def unmark_duplicate(engine: Engine, *, actor: str, workshop_id: int, issue_id: int) -> None:
    with db.write(engine) as session:
        _workshop(session, workshop_id)
        (issue,) = _issues(session, workshop_id, [issue_id])
        changes = audit.Changes()
        changes.touch(issue)
        issue.duplicate_of_id = None
        _record(session, actor, "issue.unduplicate", workshop_id, issue.theme_id, changes)


def hide_issues(
    engine: Engine,
    *,
    actor: str,
    workshop_id: int,
    issue_ids: Iterable[int],
    reason: str,
    seen: int | None = None,
) -> None:
    """Moderation: the issues leave the board and the charts; their groups see why."""
    reason = text.clean(reason, field="hide_reason", required=True, max_length=500, multiline=False)
    issue_ids = list(issue_ids)
    with db.write(engine) as session:
        if session.get(Workshop, workshop_id) is None:
            raise NotFound("workshop")
        _check_unchanged(session, workshop_id=workshop_id, seen=seen, actor=actor, issues=issue_ids)
        changes = audit.Changes()
        for issue in _issues(session, workshop_id, issue_ids):
            changes.touch(issue)
            issue.hidden_reason = reason
            issue.theme_id = None
        _record(session, actor, "issue.hide", workshop_id, None, changes)


def unhide_issue(engine: Engine, *, actor: str, workshop_id: int, issue_id: int) -> None:
    with db.write(engine) as session:
        (issue,) = _issues(session, workshop_id, [issue_id])
        changes = audit.Changes()
        changes.touch(issue)
        issue.hidden_reason = None
        _record(session, actor, "issue.unhide", workshop_id, None, changes)


def board(engine: Engine, workshop_id: int, *, with_vectors: bool = False) -> Board:
    """Everything the theme board shows, in three queries (fine for thousands of issues)."""
    with db.read(engine) as session:
        workshop = session.get(Workshop, workshop_id)
        if workshop is None:
            raise NotFound("workshop")
        groups = {
            g.id: g
            for g in session.exec(
                select(BreakoutGroup)
                .where(BreakoutGroup.workshop_id == workshop_id)
                .order_by(col(BreakoutGroup.position), col(BreakoutGroup.id))
            )
        }
        themes = list(
            session.exec(
                select(Theme)
                .where(Theme.workshop_id == workshop_id, col(Theme.deleted_at).is_(None))
                .order_by(col(Theme.position), col(Theme.id))
            )
        )
        query = (
            select(Issue)
            .where(Issue.workshop_id == workshop_id, col(Issue.deleted_at).is_(None))
            .order_by(col(Issue.id))
        )
        if not with_vectors:  # ~1 KB per issue that only suggestions read
            query = query.options(defer(Issue.vector, raiseload=True))  # type: ignore[arg-type]
        issues = list(session.exec(query))
    views = {t.id: ThemeView(t) for t in themes}
    ungrouped, hidden = [], []
    for issue in issues:
        if issue.hidden_reason is not None:
            hidden.append(issue)
        elif issue.theme_id in views:
            view = views[issue.theme_id]
            view.issues.append(issue)
            view.group_ids.add(issue.group_id)
        else:
            ungrouped.append(issue)
    return Board(workshop, groups, list(views.values()), ungrouped, hidden)  # type: ignore[arg-type]
