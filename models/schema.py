"""The workshop's nouns as SQLModel tables, and the small vocabularies they use.

Enumerations are stored as short strings (not SQL ENUM types) so that adding a
level or a phase is a code change, not a migration that differs by database.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    """Aware UTC timestamp (SQLModel's datetime columns store and return UTC)."""
    return dt.datetime.now(dt.UTC)


class Phase(StrEnum):
    """The workshop's life, in order (DESIGN.md)."""

    SETUP = "setup"
    COLLECT = "collect"
    GROUP = "group"
    VOTE = "vote"
    RECOMMEND = "recommend"
    PRESENT = "present"


class Level(StrEnum):
    """Who is affected by a problem, and at whom a recommendation is aimed."""

    SCHOOL = "school"
    AREA = "area"  # education service area office (สพป./สพม.)
    CLUSTER = "cluster"  # regional cluster / inspection region
    CENTRAL = "central"  # central OBEC


class Role(StrEnum):
    ORGANIZER = "organizer"
    FACILITATOR = "facilitator"
    GROUP = "group"
    VIEWER = "viewer"


class RecommendationStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Workshop(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=80)
    title: str = Field(max_length=500)
    venue: str = Field(default="", max_length=500)
    starts_on: dt.date
    ends_on: dt.date
    phase: str = Field(default=Phase.SETUP.value, max_length=20)
    revealed: bool = False  # silent generation: groups see only their own issues until True
    phase_deadline: dt.datetime | None = None  # optional countdown for the current phase
    vote_budget: int = 5
    max_votes_per_theme: int = 3
    groups_score: bool = False  # True: each group scores themes; False: the facilitator does
    view_code: str = Field(unique=True, max_length=16)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class BreakoutGroup(SQLModel, table=True):
    __tablename__ = "breakout_group"
    __table_args__ = (UniqueConstraint("workshop_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    name: str = Field(max_length=200)
    position: int = 0
    join_code: str = Field(unique=True, index=True, max_length=16)


class Domain(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workshop_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    name: str = Field(max_length=200)  # as the organizer typed it (Thai first)
    name_en: str = Field(default="", max_length=200)
    position: int = 0


class Theme(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    title: str = Field(max_length=500)
    description: str = Field(default="", max_length=4000)
    position: int = 0
    merged_into_id: int | None = Field(default=None, foreign_key="theme.id")
    deleted_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class Issue(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("group_id", "client_token"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    group_id: int = Field(foreign_key="breakout_group.id", index=True)
    domain_id: int = Field(foreign_key="domain.id", index=True)
    statement: str = Field(max_length=2000)
    cause: str = Field(default="", max_length=2000)
    impact: str = Field(default="", max_length=2000)
    affected: str = Field(default="", max_length=100)  # comma-joined Level values
    fix: str = Field(default="", max_length=2000)
    theme_id: int | None = Field(default=None, foreign_key="theme.id", index=True)
    duplicate_of_id: int | None = Field(default=None, foreign_key="issue.id")
    hidden_reason: str | None = Field(default=None, max_length=500)
    deleted_at: dt.datetime | None = None
    # Idempotency key sent by the form: a double-clicked submit stores one issue.
    client_token: str | None = Field(default=None, max_length=64)
    # Sentence vector for theme suggestions, computed once when the text is written.
    vector: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Vote(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("theme_id", "group_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    theme_id: int = Field(foreign_key="theme.id", index=True)
    group_id: int = Field(foreign_key="breakout_group.id", index=True)
    count: int = 0


class Score(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("theme_id", "scorer"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    theme_id: int = Field(foreign_key="theme.id", index=True)
    scorer: str = Field(max_length=40)  # "facilitator" or "group:<id>"
    impact: int
    feasibility: int


class Recommendation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    theme_id: int = Field(foreign_key="theme.id", index=True)
    level: str = Field(max_length=20)
    text: str = Field(max_length=4000)
    owner: str = Field(default="", max_length=300)
    timeframe: str = Field(default="", max_length=200)
    priority: int = 2  # 1 high, 2 medium, 3 low
    status: str = Field(default=RecommendationStatus.ACCEPTED.value, max_length=20)
    proposed_by_group_id: int | None = Field(default=None, foreign_key="breakout_group.id")
    created_at: dt.datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int | None = Field(default=None, foreign_key="workshop.id", index=True)
    actor: str = Field(max_length=80)  # "organizer", "facilitator", "group:12", "cli"
    action: str = Field(max_length=80)
    entity: str = Field(default="", max_length=40)
    entity_id: int | None = None
    # Enough to undo: the rows' fields before and after the command.
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)
    undone_at: dt.datetime | None = None


class AppSecret(SQLModel, table=True):
    """Salted hashes of generated credentials, and the key that signs session tokens."""

    __tablename__ = "app_secret"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=400)
    created_at: dt.datetime = Field(default_factory=utcnow)


class AuthThrottle(SQLModel, table=True):
    """Failed attempts per (kind, client): shared by every replica through the database."""

    __tablename__ = "auth_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    locked_until: dt.datetime | None = None
    updated_at: dt.datetime = Field(default_factory=utcnow)


class StaffSession(SQLModel, table=True):
    """One staff sign-in: its token names this row, so signing out revokes it for good."""

    __tablename__ = "staff_session"

    id: str = Field(primary_key=True, max_length=64)  # random; the token's first part
    role: str = Field(max_length=20)
    issued_at: dt.datetime = Field(default_factory=utcnow)
    last_used_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime = Field(index=True)
    revoked_at: dt.datetime | None = None


class Proposal(SQLModel, table=True):
    """A machine suggestion awaiting review: "suggest themes" or "sort the rest" (models.proposals).

    Derived data (the issues' vectors make it again), so backups leave it out; it is kept so
    a reload and a second facilitator see the same proposal until it is accepted or dismissed.
    """

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    kind: str = Field(max_length=20)  # "themes" or "sort"
    board_version: int = 0  # the workshop's newest audit event id when it was made
    made_by: str = Field(max_length=80)
    backend: str = Field(default="", max_length=80)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)  # pending, accepted, dismissed
    # The event that accepted it: undoing that event makes the proposal pending again.
    resolved_event_id: int | None = Field(default=None, foreign_key="audit_event.id")
    created_at: dt.datetime = Field(default_factory=utcnow)
