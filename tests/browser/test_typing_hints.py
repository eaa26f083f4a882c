"""Duplicate hints while a group types (issue #13 item 5), in a real browser.

After the reveal, a group typing a statement sees other groups' close statements after
a pause in typing, before saving anything; its typing is neither lost nor submitted.
The server runs the suite's backend (USE: tests never load EmbeddingGemma).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, func, select

from models import issues, phases, workshops
from models.access import Identity
from models.schema import Issue, Phase, Role
from tests.browser.conftest import Server, _running_server, open_app, wait_idle

THEIRS = "ครูไม่เพียงพอในโรงเรียนขนาดเล็ก **ครูหนึ่งคน** ต้องสอนหลายชั้นเรียน"
TYPED = "โรงเรียนขนาดเล็กมีครูไม่เพียงพอ ครูต้องสอนหลายชั้น"
MORE = " ทุกวัน"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server: its workshops would otherwise become the newest on the
    worker's shared server, and staff tests there would open them instead of the demo."""
    with _running_server(tmp_path_factory.mktemp("hints")) as running:
        yield running


def _workshop(server: Any, *, revealed: bool) -> tuple[int, dict[str, Any]]:
    """A workshop of its own on this module's server (the demo's reveal stays as it is)."""
    created = workshops.create_workshop(
        server.engine,
        actor="test",
        slug=f"hints-{uuid.uuid4().hex[:8]}",
        data=workshops.WorkshopInput(
            title="ทดสอบคำเตือนซ้ำ", starts_on=dt.date(2018, 3, 14), ends_on=dt.date(2018, 3, 16)
        ),
        groups=["กลุ่ม ก", "กลุ่ม ข"],
        domains=[("วิชาการ", "Academic")],
        phase=Phase.COLLECT,
    )
    assert created.id is not None
    if revealed:
        phases.set_reveal(server.engine, actor="test", workshop_id=created.id, revealed=True)
    groups = {g.name: g for g in workshops.list_groups(server.engine, created.id)}
    domain = workshops.list_domains(server.engine, created.id)[0]
    issues.add_issue(
        server.engine,
        identity=Identity(Role.GROUP, created.id, groups["กลุ่ม ก"].id),
        data=issues.IssueInput(domain_id=domain.id, statement=THEIRS),  # type: ignore[arg-type]
    )
    return created.id, groups


def _stored(server: Any, workshop_id: int) -> int:
    with Session(server.engine) as session:
        return session.exec(
            select(func.count(col(Issue.id))).where(Issue.workshop_id == workshop_id)
        ).one()


def test_hint_appears_while_typing_without_saving(page: Page, server: Any) -> None:
    workshop_id, groups = _workshop(server, revealed=True)
    open_app(page, f"{server.url}/?join={groups['กลุ่ม ข'].join_code}")
    area = page.locator(".st-key-new_statement textarea")
    area.press_sequentially(TYPED, delay=15)
    hint = page.locator("[data-testid='stAlert']").filter(has_text="ใกล้เคียงกับที่กำลังพิมพ์")
    # Plain text: the other group's asterisks are shown, not turned into bold.
    expect(hint).to_contain_text(f"กลุ่ม ก: {THEIRS}")
    expect(area).to_have_value(TYPED)  # the fragment's rerun left the field alone
    area.press_sequentially(MORE, delay=15)  # typing on while the hint reruns
    wait_idle(page)
    expect(area).to_have_value(TYPED + MORE)
    expect(hint).to_contain_text(THEIRS)
    assert _stored(server, workshop_id) == 1  # only the other group's: nothing was submitted


def test_no_listener_before_reveal(page: Page, server: Any) -> None:
    workshop_id, groups = _workshop(server, revealed=False)
    open_app(page, f"{server.url}/?join={groups['กลุ่ม ข'].join_code}")
    expect(page.locator(".st-key-new_statement textarea")).to_be_visible()
    expect(page.locator(".st-key-draft_hints")).to_have_count(0)  # nothing sends drafts
    phases.set_reveal(server.engine, actor="test", workshop_id=workshop_id, revealed=True)
    # The page follows the reveal by itself (pages/_live.py): the listener comes with it.
    expect(page.locator(".st-key-draft_hints")).to_have_count(1)
