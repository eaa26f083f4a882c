"""The organizer's screens in Thai, as an organizer sees them in the browser (issue #11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

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
