"""The load benchmark's protocol client against a real server: it must see what a browser sees.

No Chromium here: `benchmarks.stclient` speaks Streamlit's websocket protocol itself. These
tests prove that what the load benchmark measures is real work — a submitted form stores
an issue, an edit changes it, a dashboard refresh shows the change — and that
`benchmarks/load.py` runs end to end against a server it did not start (as behind nginx).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlmodel import select

from benchmarks import load
from benchmarks.stclient import Session
from models import dashboard, db, i18n, workshops
from models.schema import Issue

T = TypeVar("T")
pytestmark = pytest.mark.browser


def _in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run in a thread of its own: Playwright's sync API (other tests in this worker)
    keeps an event loop running in the main thread, where asyncio.run() refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


def _statements(server) -> list[str]:
    with db.read(server.engine) as session:
        return list(session.exec(select(Issue.statement).where(Issue.deleted_at.is_(None))))


def test_client_submits_edits_and_sees_the_dashboard_follow(fresh_server) -> None:
    workshop = workshops.get_workshop(fresh_server.engine, workshop_id=fresh_server.workshop_id)
    group = workshops.list_groups(fresh_server.engine, fresh_server.workshop_id)[0]
    text = "ห้องสมุดไม่มีหนังสือใหม่ <b>x</b> =1+1"

    async def scenario() -> tuple[list[str], list[str], float]:
        board = Session(fresh_server.url, page="overview", query=f"view={workshop.view_code}")
        tab = Session(fresh_server.url, query=f"join={group.join_code}")
        try:
            assert (await board.connect()).ok
            assert list(board.auto_reruns.values()) == [
                pytest.approx(dashboard.REFRESH_SECONDS)
            ]  # one timer a tab; float32 on the wire
            before = board.texts("metric")
            assert all(r.ok for r in await board.refresh())  # nothing changed: the same
            assert board.texts("metric") == before
            assert len(board.find_all(kind="plotly_chart")) == len(dashboard.CHARTS)
            assert (await tab.connect()).ok
            statement = tab.find(key="new_statement")
            submit = tab.find(kind="button", form="new_issue")
            result = await tab.rerun({statement.id: text}, click=submit.id)
            assert result.ok, result
            assert text in tab.texts("text")  # shown literally in the group's list
            assert i18n.t("th", "issue.saved") in tab.texts("alert")

            edit = tab.find(kind="button", key_prefix="edit_")
            issue_id = edit.id.rsplit("-edit_", 1)[1]
            assert (await tab.rerun(click=edit.id)).ok
            box = tab.find(key=f"edit{issue_id}_statement")
            save = tab.find(
                kind="button", form=f"edit_form_{issue_id}", label=i18n.t("th", "action.save")
            )
            assert (await tab.rerun({box.id: text + " แก้ไข"}, click=save.id)).ok

            # What the browser does every interval, until the change shows: within the
            # promised bound (a slow rebuild may hold the next one back that long).
            deadline = time.monotonic() + dashboard.MAX_REBUILD_PAUSE + dashboard.VERSION_TTL
            while True:
                await asyncio.sleep(dashboard.MIN_REBUILD_SECONDS)
                results = await board.refresh()
                assert results and all(r.ok for r in results)
                if board.texts("metric") != before or time.monotonic() > deadline:
                    break
            assert len(board.find_all(kind="plotly_chart")) == len(dashboard.CHARTS)
            return before, board.texts("metric"), results[0].seconds
        finally:
            await board.close()
            await tab.close()

    before, after, _ = _in_thread(asyncio.run, scenario())
    stored = _statements(fresh_server)
    assert stored.count(text + " แก้ไข") == 1 and text not in stored
    label = i18n.t("th", "overview.issues")
    assert f"{label}: 16" in before
    assert f"{label}: 17" in after


def test_load_benchmark_runs_against_a_running_server(fresh_server, capsys) -> None:
    """Tiny, through --url as against the nginx pair: every action measured, no error."""
    url = str(fresh_server.engine.url.render_as_string(hide_password=False))
    code = _in_thread(
        load.main,
        ["--url", fresh_server.url, "--database-url", url, "--dashboards", "3", "--groups", "2",
         "--submit-every", "1", "--duration", "4"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    rows = {line.split()[0] + " " + line.split()[1]: line.split() for line in out.splitlines()
            if line.startswith(("dashboard refresh", "issue submit", "issue edit"))}  # fmt: skip
    assert set(rows) == {"dashboard refresh", "issue submit", "issue edit"}, out
    assert all(int(row[2]) > 0 and row[-1] == "0" for row in rows.values()), out
    assert "errors: 0" in out
    stored = _statements(fresh_server)
    assert sum("#1)" in s for s in stored) == 2  # each group's first submission, once
