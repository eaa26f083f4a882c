"""Nothing lost: many concurrent writers, double submits, and the SQLite backups.

The writers run on SQLite and PostgreSQL through the real command; the backup tests
copy and restore real SQLite files while real commands write to them.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import Engine

from models import autobackup, db, issues, workshops
from models.access import Identity
from models.cli import main
from models.errors import DomainError
from models.schema import Workshop
from tests.factories import group_identity, make_workshop

WRITERS = 300
ISSUES_EACH = 20
GROUPS = 20
LOST_ACK_EVERY = 7  # every 7th acknowledgement is "lost" and the browser submits again


@pytest.fixture(autouse=True)
def _fast_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    # The model is beside the point here; the character n-gram backend needs none.
    monkeypatch.setenv("ROUNDTABLE_EMBEDDINGS", "lexical")


def _domain_id(engine: Engine, workshop: Workshop) -> int:
    return workshops.list_domains(engine, workshop.id)[0].id  # type: ignore[arg-type,return-value]


def _submit(engine: Engine, who: Identity, domain_id: int, statement: str, token: str) -> int:
    """One submit as the browser makes it: on an error, again with the same token."""
    data = issues.IssueInput(domain_id=domain_id, statement=statement)
    for attempt in range(10):
        try:
            return issues.add_issue(engine, identity=who, data=data, client_token=token).id  # type: ignore[return-value]
        except Exception:  # pool timeout, lock timeout, dropped connection: retry
            if attempt == 9:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def test_concurrent_writers_store_every_acknowledged_issue_once(engine: Engine) -> None:
    workshop = make_workshop(engine, groups=GROUPS)
    groups = [group_identity(engine, workshop, n) for n in range(GROUPS)]
    domain_id = _domain_id(engine, workshop)
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> dict[str, int]:
        who = groups[n % GROUPS]
        acknowledged: dict[str, int] = {}
        start.wait()
        for k in range(ISSUES_EACH):
            token = f"w{n}-{k}"
            issue_id = _submit(engine, who, domain_id, f"ผู้เขียน {n} ประเด็น {k}", token)
            if k % LOST_ACK_EVERY == 3:
                # The answer never reached the browser: it submits the same form again.
                assert _submit(engine, who, domain_id, f"ผู้เขียน {n} ประเด็น {k}", token) == issue_id
            acknowledged[token] = issue_id
        return acknowledged

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        results = list(pool.map(writer, range(WRITERS)))
    acknowledged = {token: issue_id for result in results for token, issue_id in result.items()}
    assert len(acknowledged) == WRITERS * ISSUES_EACH

    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT client_token, id, statement FROM issue WHERE workshop_id = :w"),
            {"w": workshop.id},
        ).all()
        added = conn.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'issue.add'")
        ).scalar_one()
    tokens = Counter(row.client_token for row in rows)
    assert [token for token, count in tokens.items() if count > 1] == []  # no duplicates
    assert {row.client_token: row.id for row in rows} == acknowledged  # no losses, no extras
    assert all(row.statement.endswith(f"ประเด็น {row.client_token.split('-')[1]}") for row in rows)
    assert added == len(rows)  # one command, one audit event: retries recorded nothing


def test_double_submit_with_one_token_stores_one_issue(engine: Engine) -> None:
    workshop = make_workshop(engine)
    first, second = (group_identity(engine, workshop, n) for n in range(2))
    domain_id = _domain_id(engine, workshop)
    data = issues.IssueInput(domain_id=domain_id, statement="กดบันทึกสองครั้ง")

    once = issues.add_issue(engine, identity=first, data=data, client_token="form-1")
    twice = issues.add_issue(engine, identity=first, data=data, client_token="form-1")
    assert twice.id == once.id
    # The token belongs to the group's form: another group's form may carry the same one.
    other = issues.add_issue(engine, identity=second, data=data, client_token="form-1")
    assert other.id != once.id
    fresh = issues.add_issue(engine, identity=first, data=data, client_token="form-2")
    assert fresh.id not in (once.id, other.id)
    stored = issues.workshop_issues(engine, workshop.id)  # type: ignore[arg-type]
    assert sorted(i.id for i in stored) == sorted([once.id, other.id, fresh.id])  # type: ignore[type-var]


# --- scheduled SQLite backups ---------------------------------------------------------------


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    """A migrated SQLite file and an engine on it, as the app opens it."""
    path = tmp_path / "roundtable.db"
    shutil.copyfile(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    yield path, engine
    engine.dispose()


def _count(path: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


ISSUES = "SELECT count(*) FROM issue"
ADDS = "SELECT count(*) FROM audit_event WHERE action = 'issue.add'"


def test_backup_taken_during_writes_is_one_consistent_snapshot(
    sqlite_db: tuple[Path, Engine], tmp_path: Path
) -> None:
    path, engine = sqlite_db
    workshop = make_workshop(engine, groups=4)
    groups = [group_identity(engine, workshop, n) for n in range(4)]
    domain_id = _domain_id(engine, workshop)
    stop = threading.Event()
    written: list[int] = []

    def writer(n: int) -> None:
        k = 0
        while not stop.is_set():
            written.append(_submit(engine, groups[n], domain_id, f"ระหว่างสำรอง {k}", f"{n}-{k}"))
            k += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    copies: list[Path] = []
    try:
        while len(copies) < 6:
            time.sleep(0.05)
            copies.append(autobackup.backup_now(path, tmp_path / "backups", keep=100))
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    counts = []
    for copy in copies:
        assert autobackup.integrity_errors(copy) == []
        assert not Path(f"{copy}-wal").exists()  # one self-contained file
        # Each add writes its issue and its audit event in one transaction: a copy cut
        # between the two would show different counts.
        counts.append(_count(copy, ISSUES))
        assert counts[-1] == _count(copy, ADDS)
    assert counts == sorted(counts)
    assert 0 < counts[-1] <= len(written) == _count(path, ISSUES)
    assert len(set(counts)) > 1, "the writers were writing while the copies were taken"


def test_retention_keeps_the_newest_copies(sqlite_db: tuple[Path, Engine], tmp_path: Path) -> None:
    path, _ = sqlite_db
    folder = tmp_path / "backups"
    folder.mkdir()
    kept_by_restore = folder / "roundtable-replaced-20260101-000000-000000.db"
    kept_by_restore.write_bytes(b"not a scheduled copy")
    taken = [autobackup.backup_now(path, folder, keep=3) for _ in range(5)]
    assert autobackup.list_backups(path, folder) == taken[-3:]
    assert kept_by_restore.exists()  # retention prunes only scheduled copies
    assert not any(p.suffix == ".partial" for p in folder.iterdir())


def test_restore_round_trip_keeps_the_replaced_database(
    sqlite_db: tuple[Path, Engine], tmp_path: Path
) -> None:
    path, engine = sqlite_db
    workshop = make_workshop(engine)
    who = group_identity(engine, workshop)
    domain_id = _domain_id(engine, workshop)
    _submit(engine, who, domain_id, "ก่อนสำรอง", "before")
    copy = autobackup.backup_now(path, tmp_path / "backups")
    _submit(engine, who, domain_id, "หลังสำรอง", "after")
    engine.dispose()  # the app is stopped before a restore

    kept = autobackup.restore(path, copy, folder=tmp_path / "backups")

    reopened = db.make_engine(f"sqlite:///{path}")
    try:
        statements = [i.statement for i in issues.workshop_issues(reopened, workshop.id)]  # type: ignore[arg-type]
        assert statements == ["ก่อนสำรอง"]
        _submit(reopened, who, domain_id, "หลังกู้คืน", "restored")  # the app writes on
    finally:
        reopened.dispose()
    assert autobackup.integrity_errors(path) == []
    assert _count(kept, ISSUES) == 2  # what the restore replaced is still there
    assert kept not in autobackup.list_backups(path, tmp_path / "backups")  # never pruned


@pytest.mark.parametrize("kind", ["garbage", "truncated", "foreign", "missing"])
def test_restore_refuses_an_unsound_file_and_changes_nothing(
    sqlite_db: tuple[Path, Engine], tmp_path: Path, kind: str
) -> None:
    path, engine = sqlite_db
    workshop = make_workshop(engine)
    _submit(engine, group_identity(engine, workshop), _domain_id(engine, workshop), "อยู่", "t")
    engine.dispose()
    bad = tmp_path / "bad.db"
    if kind == "garbage":
        bad.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    elif kind == "truncated":
        copy = autobackup.backup_now(path, tmp_path / "copies")
        bad.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])
    elif kind == "foreign":  # a sound SQLite file that is not ours
        sqlite3.connect(bad).execute("CREATE TABLE t (x)").connection.close()
    before = path.read_bytes()

    with pytest.raises(DomainError) as refused:
        autobackup.restore(path, bad, folder=tmp_path / "backups")
    assert refused.value.key == "error.dbbackup.unsound"
    assert path.read_bytes() == before
    assert not (tmp_path / "backups").exists()


def test_restore_refuses_while_a_server_has_the_database(
    sqlite_db: tuple[Path, Engine], tmp_path: Path
) -> None:
    path, engine = sqlite_db
    copy = autobackup.backup_now(path, tmp_path / "backups")
    engine.dispose()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from models import autobackup;"
            "autobackup.mark_in_use(Path(sys.argv[1])); print('ready', flush=True);"
            "time.sleep(60)",
            str(path),
        ],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(DomainError) as refused:
            autobackup.restore(path, copy, folder=tmp_path / "backups")
        assert refused.value.key == "error.dbbackup.in_use"
    finally:
        holder.send_signal(signal.SIGKILL)  # a crashed server leaves no stale lock behind
        holder.wait()
    autobackup.restore(path, copy, folder=tmp_path / "backups")


def test_the_schedule_fires_prunes_and_starts_once(
    sqlite_db: tuple[Path, Engine], tmp_path: Path
) -> None:
    path, _ = sqlite_db
    folder = tmp_path / "scheduled"
    config = autobackup.Settings(folder=folder, interval=0.2, keep=2)
    url = f"sqlite:///{path}"
    schedule = autobackup.start_schedule(url, config)
    assert schedule is not None
    try:
        assert autobackup.start_schedule(url, config) is schedule  # never a second thread
        names = [t.name for t in threading.enumerate()]
        assert names.count(f"backup-{path.name}") == 1
        deadline = time.monotonic() + 30
        while schedule.taken < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert schedule.taken >= 4
    finally:
        schedule.stop()
    found = autobackup.list_backups(path, folder)
    assert len(found) == 2
    assert all(autobackup.integrity_errors(copy) == [] for copy in found)


def test_schedule_settings_and_postgresql(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    database = tmp_path / "roundtable.db"
    for name in ("ROUNDTABLE_BACKUP_DIR", "ROUNDTABLE_BACKUP_INTERVAL", "ROUNDTABLE_BACKUP_KEEP"):
        monkeypatch.delenv(name, raising=False)
    assert autobackup.settings(database) == autobackup.Settings(tmp_path / "backups", 300.0, 48)
    monkeypatch.setenv("ROUNDTABLE_BACKUP_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("ROUNDTABLE_BACKUP_INTERVAL", "0.5")
    monkeypatch.setenv("ROUNDTABLE_BACKUP_KEEP", "3")
    assert autobackup.settings(database) == autobackup.Settings(tmp_path / "elsewhere", 30.0, 3)
    monkeypatch.setenv("ROUNDTABLE_BACKUP_INTERVAL", "five")  # a typo must not stop the app
    assert autobackup.settings(database).interval == 300.0
    # PostgreSQL keeps its own backups (pg_dump): no thread, no copy.
    assert autobackup.start_schedule("postgresql+psycopg://u@h/db") is None


def test_cli_backs_up_and_restores(
    sqlite_db: tuple[Path, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, engine = sqlite_db
    workshop = make_workshop(engine)
    who = group_identity(engine, workshop)
    _submit(engine, who, _domain_id(engine, workshop), "ในสำเนา", "kept")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("ROUNDTABLE_BACKUP_DIR", str(tmp_path / "cli-backups"))
    runner = CliRunner()

    taken = runner.invoke(main, ["--lang", "en", "backup-db"])
    assert taken.exit_code == 0, taken.output
    [copy] = autobackup.list_backups(path, tmp_path / "cli-backups")
    assert str(copy) in taken.output
    _submit(engine, who, _domain_id(engine, workshop), "หลังสำเนา", "later")
    engine.dispose()

    restored = runner.invoke(main, ["--lang", "en", "restore-db", str(copy)])
    assert restored.exit_code == 0, restored.output
    assert _count(path, ISSUES) == 1
    refused = runner.invoke(main, ["--lang", "en", "restore-db", str(tmp_path / "x.db")])
    assert refused.exit_code != 0

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@localhost/none")
    on_pg = runner.invoke(main, ["--lang", "en", "backup-db"])
    assert on_pg.exit_code == 1 and "pg_dump" in on_pg.output
