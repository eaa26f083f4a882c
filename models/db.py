"""Engines and transactions: SQLite tuned for many writers, PostgreSQL for scale-out.

Every command runs inside `write(engine)`: one transaction, taken with
`BEGIN IMMEDIATE` on SQLite so read-modify-write commands cannot lose updates
(see shared/NOTES.md). Queries use `read(engine)`, a deferred transaction that
never blocks writers under WAL.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine  # re-exported: pages name the type without SQL imports
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = ROOT / "data" / "roundtable.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url() -> str:
    """`DATABASE_URL` from the environment, or the embedded SQLite file."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "busy_timeout=15000",
            "synchronous=NORMAL",
            "foreign_keys=ON",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


def make_engine(url: str | None = None) -> Engine:
    """A new engine for `url`; SQLite files get their folder created and are tuned."""
    url = url or database_url()
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 15}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            path = url.split("///", 1)[-1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates it on an empty database)."""
    command.upgrade(alembic_config(engine), "head")


@functools.cache
def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for `url`, migrated once per process."""
    engine = make_engine(url)
    migrate(engine)
    return engine


@contextmanager
def write(engine: Engine) -> Iterator[Session]:
    """One command's transaction: commits on success, rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        if engine.dialect.name == "sqlite":
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read(engine: Engine) -> Iterator[Session]:
    """A read-only session; objects stay usable after it closes."""
    with Session(engine, expire_on_commit=False) as session:
        # Closing (not rolling back) ends the transaction and keeps objects loaded.
        yield session
