"""The organizer's screens in Thai, as an organizer sees them in the browser (issue #11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from models import issues, workshops
from models.access import Identity
from models.schema import Role
from pages._live import FOLLOW_SECONDS
from tests.browser.conftest import sign_in, wait_idle

pytestmark = pytest.mark.browser

AFTER = "(el) => getComputedStyle(el, '::after').content"


def test_uploaders_speak_thai_and_state_the_real_limit(
    page: Page, server: Any, tmp_path: Path
) -> None:
    sign_in(page, server, "organizer")
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.get_by_role("link", name="นำเข้า/ส่งออกข้อมูล", exact=True).click()
    wait_idle(page)
    expected = {
        "import_file": ('"เลือกไฟล์"', '"ไม่เกิน 10 MB ต่อไฟล์ • CSV, XLSX"'),
        "restore_file": ('"เลือกไฟล์"', '"ไม่เกิน 200 MB ต่อไฟล์ • JSON"'),
    }
    for key, (button, limit) in expected.items():
        uploader = page.locator(f".st-key-{key}")
        expect(uploader).to_be_visible()
        words = uploader.locator("button [data-testid='stMarkdownContainer']")
        assert words.evaluate(AFTER) == button
        instructions = uploader.locator("[data-testid='stFileUploaderDropzoneInstructions'] > div")
        assert instructions.evaluate(AFTER) == limit
        # Streamlit's own English words are there but not drawn (nor read: accessibility).
        expect(uploader.locator("button p")).to_be_hidden()
        expect(uploader.get_by_role("button", name=button.strip('"'), exact=True)).to_be_visible()

    # The import's limit is the models' 10 MB, not the server's 200 MB: the browser refuses.
    big = tmp_path / "big.csv"
    big.write_bytes(b"group,domain,text\n" + b"x" * (11 * 1024 * 1024))
    page.locator(".st-key-import_file input[type='file']").set_input_files(str(big))
    expect(page.locator(".st-key-import_file")).to_contain_text("10.0MB")
    expect(page.locator(".st-key-import_map_group, [data-testid='stDataFrame']")).to_have_count(0)


def test_data_page_holds_still_while_groups_submit(page: Page, server: Any) -> None:
    """A rerun drops the files a page's download buttons point at (pages/_live.HOLD_STILL):
    while groups submit, the data page must not rerun, and its downloads must work."""
    sign_in(page, server, "organizer")
    page.goto(f"{server.url}/organizer_data")  # a new session, signed in by its cookie
    wait_idle(page)
    expect(page.locator(".st-key-export_zip button")).to_be_visible()
    drawn = page.evaluate("window.__runs.changedAt")
    group = next(iter(workshops.list_groups(server.engine, server.workshop_id)))
    voice = Identity(Role.GROUP, server.workshop_id, group.id)
    domain = workshops.list_domains(server.engine, server.workshop_id)[0]
    data = issues.IssueInput(statement="ห้องสมุดของโรงเรียนปิดบ่อย", domain_id=domain.id)
    added = issues.add_issue(server.engine, identity=voice, data=data)
    page.wait_for_timeout(3 * FOLLOW_SECONDS * 1000)  # a following page reruns within one
    issues.delete_issue(server.engine, identity=voice, issue_id=added.id)  # type: ignore[arg-type]
    assert page.evaluate("window.__runs.changedAt") == drawn, "the data page reran"
    with page.expect_download(timeout=30_000) as info:
        page.locator(".st-key-export_zip button").click()
    assert info.value.failure() is None
