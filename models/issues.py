"""Issues: what breakout groups enter, edit and delete, and what they may see."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, false
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import Select

from models import audit, db, embeddings, phases, text
from models.access import Identity
from models.errors import DomainError, Forbidden, NotFound
from models.schema import BreakoutGroup, Domain, Issue, Level, Role, Workshop, utcnow

MAX_STATEMENT = 2000


class IssueInput(SQLModel):
    """The fields of the entry form, as typed."""

    domain_id: int
    statement: str
    cause: str = ""
    impact: str = ""
    affected: list[str] = []
    fix: str = ""


@dataclass(frozen=True)
class IssueFields:
    domain_id: int
    statement: str
    cause: str
    impact: str
    affected: str
    fix: str


def validate(data: IssueInput) -> IssueFields:
    """Normalised, checked fields; raises DomainError naming the first bad field."""
    levels = [str(level) for level in data.affected]
    unknown = [level for level in levels if level not in Level._value2member_map_]
    if unknown:
        raise DomainError("error.issue.affected", value=", ".join(unknown))
    ordered = [level.value for level in Level if level.value in levels]
    return IssueFields(
        domain_id=data.domain_id,
        statement=text.clean(
            data.statement, field="statement", required=True, max_length=MAX_STATEMENT
        ),
        cause=text.clean(data.cause, field="cause", max_length=MAX_STATEMENT),
        impact=text.clean(data.impact, field="impact", max_length=MAX_STATEMENT),
        affected=",".join(ordered),
        fix=text.clean(data.fix, field="fix", max_length=MAX_STATEMENT),
    )


def _check_domain(session: Session, workshop_id: int, domain_id: int) -> None:
    domain = session.get(Domain, domain_id)
    if domain is None or domain.workshop_id != workshop_id:
        raise DomainError("error.issue.domain")


def _may_change(identity: Identity, issue: Issue) -> None:
    """Groups change only their own issues, staff any; the read-only viewer none."""
    if identity.role is Role.VIEWER:
        raise Forbidden()
    if identity.role is Role.GROUP and issue.group_id != identity.group_id:
        raise Forbidden("error.issue.not_yours")


def _own_issue(session: Session, identity: Identity, issue_id: int) -> tuple[Issue, Workshop]:
    issue = session.get(Issue, issue_id)
    if issue is None or issue.deleted_at is not None:
        raise NotFound("issue")
    _may_change(identity, issue)
    workshop = session.get(Workshop, issue.workshop_id)
    assert workshop is not None
    return issue, workshop


def _submission_query(*, with_token: bool) -> Select[Workshop, int | None, Issue]:
    token_matches: ColumnElement[bool] = (
        and_(
            col(Issue.group_id) == col(BreakoutGroup.id),
            col(Issue.client_token) == bindparam("client_token"),
        )
        if with_token
        else false()  # no token: never "already stored" (== None would match IS NULL rows)
    )
    return (
        select(Workshop, col(Domain.id), Issue)
        .select_from(BreakoutGroup)
        .join(Workshop, col(Workshop.id) == col(BreakoutGroup.workshop_id))
        .outerjoin(
            Domain,
            and_(
                col(Domain.id) == bindparam("domain_id"),
                col(Domain.workshop_id) == col(BreakoutGroup.workshop_id),
            ),
        )
        .outerjoin(Issue, token_matches)  # (group_id, client_token) is unique: one row at most
        .where(col(BreakoutGroup.id) == bindparam("group_id"))
    )


# Built once: every submit runs one of these, and building a join costs more than running it.
_SUBMISSION = {True: _submission_query(with_token=True), False: _submission_query(with_token=False)}


def _submission(
    session: Session, group_id: int, domain_id: int, client_token: str | None
) -> tuple[Workshop, bool, Issue | None]:
    """What a submit checks, in one query: the group's workshop, whether `domain_id` is
    one of that workshop's domains, and the issue already stored under `client_token`.

    One round trip instead of four: every submit pays it, and 300 writers wait on it.
    """
    params = {"group_id": group_id, "domain_id": domain_id, "client_token": client_token}
    found = session.exec(_SUBMISSION[bool(client_token)], params=params).first()
    if found is None:
        raise NotFound("group")
    workshop, domain, existing = found
    return workshop, domain is not None, existing


def add_issue(
    engine: Engine,
    *,
    identity: Identity,
    data: IssueInput,
    client_token: str | None = None,
) -> Issue:
    """Store a group's new issue. The same `client_token` twice stores it once."""
    if identity.role is not Role.GROUP or identity.group_id is None:
        raise Forbidden()
    fields = validate(data)
    # Computed before the transaction opens: the model must not hold the database lock.
    vector = embeddings.vector_for(fields.statement)
    try:
        with db.write(engine) as session:
            workshop, domain_ok, existing = _submission(
                session, identity.group_id, fields.domain_id, client_token
            )
            if existing is not None:
                return existing  # a resubmit is answered even after the phase closed
            phases.require(workshop, "enter_issue")
            if not domain_ok:
                raise DomainError("error.issue.domain")
            issue = Issue(
                workshop_id=workshop.id,  # type: ignore[arg-type]
                group_id=identity.group_id,
                client_token=client_token,
                vector=vector,
                **fields.__dict__,
            )
            session.add(issue)
            session.flush()  # the audit event names the new id
            audit.record(
                session,
                actor=identity.actor,
                action="issue.add",
                workshop_id=workshop.id,
                entity="issue",
                entity_id=issue.id,
                after=audit.snapshot(issue),
            )
    except IntegrityError:
        # Two submits with one token raced past the check: the other one stored it.
        with db.read(engine) as session:
            existing = session.exec(
                select(Issue).where(
                    Issue.group_id == identity.group_id, Issue.client_token == client_token
                )
            ).first()
        if existing is None:
            raise
        return existing
    return issue


def edit_issue(engine: Engine, *, identity: Identity, issue_id: int, data: IssueInput) -> Issue:
    fields = validate(data)
    vector = embeddings.vector_for(fields.statement)
    with db.write(engine) as session:
        issue, workshop = _own_issue(session, identity, issue_id)
        if identity.role is Role.GROUP:
            phases.require(workshop, "enter_issue")
        _check_domain(session, workshop.id, fields.domain_id)  # type: ignore[arg-type]
        before = audit.snapshot(issue)
        for key, value in fields.__dict__.items():
            setattr(issue, key, value)
        issue.vector = vector
        issue.updated_at = utcnow()
        session.add(issue)
        audit.record(
            session,
            actor=identity.actor,
            action="issue.edit",
            workshop_id=workshop.id,
            entity="issue",
            entity_id=issue_id,
            before=before,
            after=audit.snapshot(issue),
        )
    return issue


def delete_issue(engine: Engine, *, identity: Identity, issue_id: int) -> Issue:
    """Soft delete: the row stays, marked, and `restore_issue` brings it back."""
    with db.write(engine) as session:
        issue, workshop = _own_issue(session, identity, issue_id)
        if identity.role is Role.GROUP:
            phases.require(workshop, "enter_issue")
        issue.deleted_at = utcnow()
        session.add(issue)
        audit.record(
            session,
            actor=identity.actor,
            action="issue.delete",
            workshop_id=workshop.id,
            entity="issue",
            entity_id=issue_id,
            before={"deleted_at": None},
            after={"deleted_at": issue.deleted_at.isoformat()},
        )
    return issue


def restore_issue(engine: Engine, *, identity: Identity, issue_id: int) -> Issue:
    """Undo a soft delete. A group may do it only while it may still enter issues, as
    for the delete itself: once the facilitator has moved on (grouping, voting), an
    issue coming back would change a board and a ballot others are already using.
    Staff may restore in any phase (the facilitator's undo)."""
    with db.write(engine) as session:
        issue = session.get(Issue, issue_id)
        if issue is None or issue.deleted_at is None:
            raise NotFound("issue")
        _may_change(identity, issue)
        if identity.role is Role.GROUP:
            workshop = session.get(Workshop, issue.workshop_id)
            assert workshop is not None  # the foreign key guarantees it
            phases.require(workshop, "enter_issue")
        before = {"deleted_at": issue.deleted_at.isoformat()}
        issue.deleted_at = None
        session.add(issue)
        audit.record(
            session,
            actor=identity.actor,
            action="issue.restore",
            workshop_id=issue.workshop_id,
            entity="issue",
            entity_id=issue_id,
            before=before,
            after={"deleted_at": None},
        )
    return issue


def group_issues(engine: Engine, group_id: int) -> list[Issue]:
    """A group's live issues, newest first."""
    with db.read(engine) as session:
        query = (
            select(Issue)
            .where(Issue.group_id == group_id, col(Issue.deleted_at).is_(None))
            .order_by(col(Issue.created_at).desc(), col(Issue.id).desc())
        )
        return list(session.exec(query))


def workshop_issues(
    engine: Engine, workshop_id: int, *, include_deleted: bool = False
) -> list[Issue]:
    with db.read(engine) as session:
        query = select(Issue).where(Issue.workshop_id == workshop_id)
        if not include_deleted:
            query = query.where(col(Issue.deleted_at).is_(None))
        return list(session.exec(query.order_by(col(Issue.id))))


def count_by_domain(issues: list[Issue]) -> Counter[int]:
    return Counter(issue.domain_id for issue in issues)


def affected_levels(issue: Issue) -> list[Level]:
    return [Level(value) for value in issue.affected.split(",") if value]


def visible_to_group(engine: Engine, identity: Identity) -> list[Issue]:
    """Other groups' issues a group may read: none before reveal, then all not hidden."""
    with db.read(engine) as session:
        workshop = session.get(Workshop, identity.workshop_id)
        if workshop is None or not workshop.revealed:
            return []
        query = (
            select(Issue)
            .where(
                Issue.workshop_id == workshop.id,
                Issue.group_id != identity.group_id,
                col(Issue.deleted_at).is_(None),
                col(Issue.hidden_reason).is_(None),
            )
            .order_by(col(Issue.created_at).desc(), col(Issue.id).desc())
        )
        return list(session.exec(query))
