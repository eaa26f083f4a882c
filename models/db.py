"""Engines and transactions: SQLite tuned for many writers, PostgreSQL for scale-out.

Every command runs inside `write(engine)`: one transaction, taken with
`BEGIN IMMEDIATE` on SQLite so read-modify-write commands cannot lose updates
(see shared/NOTES.md). Queries use `read(engine)`, a deferred transaction that
never blocks writers under WAL.

SQLite takes one writer at a time, and a writer that finds the lock taken polls for it
with growing sleeps (its busy handler): under a burst of submissions from one server
process, some waited seconds while others went first. Writers of one process therefore
queue on a lock in Python before `BEGIN IMMEDIATE` and are woken the moment it is free;
the busy timeout is left for writers in other processes (the CLI, a second server).
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
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


def private_dir(folder: Path) -> None:
    """Create `folder` (and missing parents) readable by this user only (0700). An
    existing folder is left as it is: `data/` also holds the app's own files."""
    missing = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    for created in reversed(missing):
        created.mkdir(mode=0o700, exist_ok=True)
        os.chmod(created, 0o700)  # mkdir's mode is filtered by the umask


def private_file(path: Path) -> None:
    """Make sure `path` exists with mode 0600 before SQLite opens it.

    The database holds the token signing key and the credential hashes, so no other
    user of the machine may read it. SQLite creates its -wal, -shm and journal files
    with the main file's mode, so securing the main file secures them too. An empty
    file is a valid empty SQLite database; an existing one is tightened if needed.
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    for extra in ("-wal", "-shm", "-journal"):
        sidecar = path.with_name(path.name + extra)
        if sidecar.exists() and sidecar.stat().st_mode & 0o077:
            os.chmod(sidecar, 0o600)


def make_engine(url: str | None = None) -> Engine:
    """A new engine for `url`; SQLite files get their folder created and are tuned."""
    url = url or database_url()
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 15}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            path = Path(url.split("///", 1)[-1].split("?", 1)[0])
            private_dir(path.parent)
            private_file(path)
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


_writer_locks: dict[str, threading.RLock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(engine: Engine) -> threading.RLock:
    """The in-process queue for one SQLite database (shared by engines on the same file)."""
    key = str(engine.url)
    if key in ("sqlite://", "sqlite:///:memory:"):
        key = f"{key}#{id(engine)}"
    with _writer_locks_guard:
        return _writer_locks.setdefault(key, threading.RLock())


@contextmanager
def write(engine: Engine) -> Iterator[Session]:
    """One command's transaction: commits on success, rolls back on any error."""
    if engine.dialect.name != "sqlite":
        with _transaction(engine) as session:
            yield session
        return
    with _writer_lock(engine), _transaction(engine, begin="IMMEDIATE") as session:
        yield session


@contextmanager
def _transaction(engine: Engine, begin: str = "") -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        if begin:
            session.connection(execution_options={"sqlite_begin": begin})
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
