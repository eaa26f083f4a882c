"""Scheduled online backups of the SQLite database, and a guarded restore.

Copies are taken with SQLite's online backup API in one step: the copy is the
database as of one transaction, even while groups write (under WAL, readers never
block writers). PostgreSQL is not copied here: use `pg_dump` (see README).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from models import db
from models.errors import DomainError

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MINUTES = 5.0
DEFAULT_KEEP = 48
_STAMP = "%Y%m%d-%H%M%S-%f"


@dataclass(frozen=True)
class Settings:
    folder: Path
    interval: float  # seconds between backups; 0 turns the schedule off
    keep: int


def sqlite_path(url: str) -> Path | None:
    """The database file behind a SQLite URL, or None (PostgreSQL, in-memory)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1] if "///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def settings(database: Path) -> Settings:
    """ROUNDTABLE_BACKUP_DIR / _INTERVAL (minutes) / _KEEP, with the defaults."""
    folder = os.environ.get("ROUNDTABLE_BACKUP_DIR") or str(database.parent / "backups")
    minutes = _number("ROUNDTABLE_BACKUP_INTERVAL", DEFAULT_INTERVAL_MINUTES)
    keep = int(_number("ROUNDTABLE_BACKUP_KEEP", DEFAULT_KEEP))
    return Settings(folder=Path(folder), interval=max(minutes, 0.0) * 60, keep=max(keep, 1))


def _number(name: str, default: float) -> float:
    # A typo in a setting must not stop the app from serving: warn and use the default.
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        log.warning("%s=%r is not a number; using %s", name, raw, default)
        return default


def _pattern(database: Path) -> re.Pattern[str]:
    # Only scheduled copies match: files kept by a restore are never pruned.
    return re.compile(rf"^{re.escape(database.stem)}-\d{{8}}-\d{{6}}-\d{{6}}\.db$")


def list_backups(database: Path, folder: Path) -> list[Path]:
    """Scheduled copies of `database` in `folder`, oldest first (names sort by time)."""
    if not folder.is_dir():
        return []
    pattern = _pattern(database)
    return sorted(p for p in folder.iterdir() if pattern.match(p.name))


def integrity_errors(path: Path) -> list[str]:
    """What `PRAGMA integrity_check` finds wrong with a database file ([] when sound)."""
    if not path.is_file():
        return [f"{path} does not exist"]
    conn = _connect(path, readonly=True)
    try:
        rows = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        return [str(error)]
    finally:
        conn.close()
    if rows != ["ok"]:
        return rows
    return [] if "alembic_version" in tables else ["not a Roundtable database"]


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    return sqlite3.connect(uri, uri=True, timeout=15, isolation_level=None)


def _copy(source: Path, target: Path, *, standalone: bool = True) -> None:
    """`source` copied into `target` by the online backup API, in one consistent step.

    A standalone copy is switched to a rollback journal: one self-contained file, with
    no -wal or -shm beside it, that can be moved, opened read-only or restored as is.
    """
    db.private_file(target)  # it holds the token key and credential hashes too
    src = _connect(source)
    dst = _connect(target)
    try:
        src.backup(dst)  # pages=-1: one step, so the copy is one snapshot of the source
        if standalone:
            dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def backup_now(database: Path, folder: Path, *, keep: int = DEFAULT_KEEP) -> Path:
    """Copy `database` into `folder` under a timestamped name, then prune to `keep` copies."""
    if not database.is_file():
        raise DomainError("error.dbbackup.missing", path=str(database))
    db.private_dir(folder)
    stamp = dt.datetime.now(dt.UTC).strftime(_STAMP)
    final = folder / f"{database.stem}-{stamp}.db"
    partial = final.with_suffix(".partial")  # never matches the pattern: never restored
    _copy(database, partial)
    if problems := integrity_errors(partial):
        partial.unlink()
        raise RuntimeError(f"backup of {database} failed its integrity check: {problems}")
    partial.rename(final)  # atomic: a listed backup is always complete
    prune(database, folder, keep=keep)
    return final


def prune(database: Path, folder: Path, *, keep: int) -> list[Path]:
    """Delete the oldest scheduled copies beyond `keep`; returns what was deleted."""
    found = list_backups(database, folder)
    doomed = found[: max(len(found) - keep, 0)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


# --- the schedule: one daemon thread per server process and database ----------------------


class Schedule:
    """Backs `database` up every `settings.interval` seconds until stopped."""

    def __init__(self, database: Path, config: Settings) -> None:
        self.database = database
        self.settings = config
        self.taken = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"backup-{database.name}", daemon=True
        )

    def _first_delay(self) -> float:
        # A restart does not reset the clock: wait out what is left since the newest copy.
        found = list_backups(self.database, self.settings.folder)
        if not found:
            return self.settings.interval
        age = time.time() - found[-1].stat().st_mtime
        return min(max(self.settings.interval - age, 0.0), self.settings.interval)

    def _run(self) -> None:
        delay = self._first_delay()
        while not self._stop.wait(delay):
            try:
                backup_now(self.database, self.settings.folder, keep=self.settings.keep)
                self.taken += 1
            except Exception:  # a failed backup must never take the app down; try again later
                log.exception("scheduled backup of %s failed", self.database)
            delay = self.settings.interval

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        with _schedules_lock:
            if _schedules.get(self.database) is self:
                del _schedules[self.database]


_schedules: dict[Path, Schedule] = {}
_schedules_lock = threading.Lock()
_serving: dict[Path, IO[bytes]] = {}


def start_schedule(url: str | None = None, config: Settings | None = None) -> Schedule | None:
    """Start the backups for the database at `url` once per process; None when there is
    nothing to do (PostgreSQL, in-memory, interval 0). Marks the database as in use."""
    database = sqlite_path(url or db.database_url())
    if database is None:
        return None
    database = database.resolve()
    with _schedules_lock:
        if database in _schedules:
            return _schedules[database]
        mark_in_use(database)
        config = config or settings(database)
        if config.interval <= 0:
            return None
        schedule = _schedules[database] = Schedule(database, config)
        schedule.start()
        return schedule


# --- restore ------------------------------------------------------------------------------


def _lock_file(database: Path) -> Path:
    return database.with_name(database.name + ".serving")


def mark_in_use(database: Path) -> None:
    """Hold a shared lock on `<db>.serving` for this process's life. The kernel drops it
    when the process ends, even by SIGKILL, so a stale lock is impossible."""
    if database in _serving:
        return
    handle = _lock_file(database).open("ab")
    fcntl.flock(handle, fcntl.LOCK_SH)
    _serving[database] = handle


def restore(database: Path, backup: Path, *, folder: Path) -> Path:
    """Replace `database` with `backup`; returns where the replaced database was kept.

    Refuses a file that fails `PRAGMA integrity_check` or is not a Roundtable database,
    and refuses while an app process has the database open (it would serve stale pages).
    """
    backup = backup.resolve()
    if problems := integrity_errors(backup):
        raise DomainError("error.dbbackup.unsound", path=str(backup), problems="; ".join(problems))
    database = database.resolve()
    with _lock_file(database).open("ab") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DomainError("error.dbbackup.in_use", path=str(database)) from None
        db.private_dir(folder)
        stamp = dt.datetime.now(dt.UTC).strftime(_STAMP)
        kept = folder / f"{database.stem}-replaced-{stamp}.db"
        if database.exists():
            _copy(database, kept)
        # Written through SQLite, not copied over the file: the WAL and its index stay
        # consistent with the new content.
        _copy(backup, database, standalone=False)
        if problems := integrity_errors(database):  # pragma: no cover - disk trouble
            raise RuntimeError(f"restored database failed its integrity check: {problems}")
    return kept
