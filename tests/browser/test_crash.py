"""Nothing lost, end to end: a double-clicked submit, and a server killed mid-load.

A submit counts as acknowledged once the group's page shows the issue it saved; after
a SIGKILL of the whole server process group and a restart on the same SQLite file,
every acknowledged issue must be there exactly once and the file must be sound.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from models import autobackup, db, issues, workshops
from models.bootstrap import bootstrap
from tests.browser.conftest import (
    FACILITATOR_PIN,
    ORGANIZER_PASSWORD,
    ROOT,
    STARTUP_TIMEOUT,
    _free_port,
    _healthy,
    _tail,
    open_app,
    wait_idle,
)
from tests.browser.test_group_flow import shown_statement

pytestmark = pytest.mark.browser

SUBMIT = "บันทึกประเด็นปัญหา"
CRASH_GROUPS = ["เขตตรวจราชการที่ 12", "เขตตรวจราชการที่ 13", "เขตตรวจราชการที่ 14"]
STEPS = 10  # submits in all; the kill interrupts the last three


def _rows(path: Path, marker: str) -> list[str]:
    """Statements containing `marker`, read straight from the file (recovering its WAL)."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT statement FROM issue WHERE statement LIKE ?", (f"%{marker}%",)
        ).fetchall()
    finally:
        conn.close()
    return [row[0] for row in rows]


def test_double_clicked_submit_stores_one_issue(
    server: Any, new_page: Callable[[str], Page]
) -> None:
    group = "เขตตรวจราชการที่ 11"
    page = new_page("main")
    open_app(page, f"{server.url}/?join={server.join_codes[group]}")
    for click in ("dblclick", "two clicks"):
        statement = f"กดบันทึกสองครั้ง {click} {uuid.uuid4().hex[:8]}"
        page.locator(".st-key-new_statement textarea").fill(statement)
        button = page.get_by_role("button", name=SUBMIT)
        if click == "dblclick":
            button.dblclick()
        else:
            button.click()
            button.click(delay=20)
        wait_idle(page)
        expect(shown_statement(page, statement)).to_have_count(1)
        mine = issues.group_issues(server.engine, server.group(group).id)
        assert [i.statement for i in mine].count(statement) == 1, click


@contextmanager
def _server_process(database: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`streamlit run` in a process group of its own, so a SIGKILL takes all of it."""
    env = {
        **os.environ,
        "ORGANIZER_PASSWORD": ORGANIZER_PASSWORD,
        "FACILITATOR_PIN": FACILITATOR_PIN,
        "DATABASE_URL": f"sqlite:///{database}",
        "PYTHONUNBUFFERED": "1",
        "ROUNDTABLE_EMBEDDINGS": "lexical",  # the sentence model is beside the point here
        # Scheduled backups every 1.2 s, taken while the groups write and across the crash.
        "ROUNDTABLE_BACKUP_INTERVAL": "0.02",
        "ROUNDTABLE_BACKUP_DIR": str(database.parent / "backups"),
    }
    env.pop("ROUNDTABLE_BASE_URL", None)
    command = [sys.executable, "-m", "streamlit", "run", "app.py"]
    command += ["--server.headless", "true", "--server.address", "127.0.0.1"]
    command += ["--server.port", str(port), "--browser.gatherUsageStats", "false"]
    command += ["--server.fileWatcherType", "none"]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{_tail(log)}")
            time.sleep(0.25)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)


def test_sigkill_mid_load_loses_no_acknowledged_issue(
    tmp_path: Path, new_page: Callable[[str], Page]
) -> None:
    database = tmp_path / "crash.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORGANIZER_PASSWORD", ORGANIZER_PASSWORD)
        patch.setenv("FACILITATOR_PIN", FACILITATOR_PIN)
        patch.setenv("ROUNDTABLE_EMBEDDINGS", "lexical")
        engine = db.make_engine(f"sqlite:///{database}")
        db.migrate(engine)
        bootstrap(engine)
    workshop = workshops.list_workshops(engine)[0]
    codes = {g.name: g.join_code for g in workshops.list_groups(engine, workshop.id)}  # type: ignore[arg-type]
    engine.dispose()  # from here on only the server touches the file
    port, log, marker = _free_port(), tmp_path / "server.log", uuid.uuid4().hex[:8]
    url = f"http://127.0.0.1:{port}"
    pages = {name: new_page(f"group{n}") for n, name in enumerate(CRASH_GROUPS)}
    acknowledged: list[str] = []
    in_flight: list[str] = []

    def type_and_submit(name: str, step: int) -> str:
        statement = f"ก่อนดับ {marker} {name} ข้อ {step}"
        pages[name].locator(".st-key-new_statement textarea").fill(statement)
        pages[name].get_by_role("button", name=SUBMIT).click()
        return statement

    with _server_process(database, port, log) as process:
        for name, page in pages.items():  # all three load at once
            page.goto(f"{url}/?join={codes[name]}", wait_until="commit")
        for page in pages.values():
            wait_idle(page)
            expect(page.get_by_role("button", name=SUBMIT)).to_be_visible()
        # The groups take turns without waiting for each other: a group submits again as
        # soon as its page shows the last one saved, so two or three are always in flight.
        pending: dict[str, str] = {}
        for step in range(STEPS):
            name = CRASH_GROUPS[step % len(CRASH_GROUPS)]
            if name in pending:
                expect(shown_statement(pages[name], pending[name])).to_have_count(1)
                acknowledged.append(pending.pop(name))
            pending[name] = type_and_submit(name, step)
        # Within a moment of the last acknowledgement, with every group's submit in flight.
        os.killpg(process.pid, signal.SIGKILL)  # no shutdown, no checkpoint, no flush
        process.wait(timeout=15)
        killed_at = time.time()
        assert process.returncode == -signal.SIGKILL
        in_flight = list(pending.values())

    conn = sqlite3.connect(database)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    stored = _rows(database, marker)
    assert sorted(s for s in stored if s in acknowledged) == sorted(acknowledged)
    assert len(stored) == len(set(stored))  # exactly once, the interrupted ones at most once
    assert set(stored) <= set(acknowledged) | set(in_flight)

    # The restarted server serves a group every issue it acknowledged, and takes new ones.
    with _server_process(database, port, log):
        name = CRASH_GROUPS[0]
        page = pages[name]
        open_app(page, f"{url}/?join={codes[name]}")
        for statement in acknowledged:
            if name in statement:
                expect(shown_statement(page, statement)).to_have_count(1)
        after = f"หลังเริ่มใหม่ {marker}"
        page.locator(".st-key-new_statement textarea").fill(after)
        page.get_by_role("button", name=SUBMIT).click()
        expect(shown_statement(page, after)).to_have_count(1)
        wait_idle(page)
    final = _rows(database, marker)
    assert final.count(after) == 1
    assert all(final.count(statement) == 1 for statement in acknowledged)

    # The server's own backup schedule ran; its newest copy (taken by the restarted
    # process) is sound and holds every acknowledged issue.
    copies = autobackup.list_backups(database, tmp_path / "backups")
    assert copies, _tail(log)
    assert all(autobackup.integrity_errors(copy) == [] for copy in copies)
    assert copies[-1].stat().st_mtime > killed_at, "the restarted server took a backup"
    in_copy = _rows(copies[-1], marker)
    assert all(in_copy.count(statement) == 1 for statement in acknowledged)
