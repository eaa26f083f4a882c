"""End to end: a group pastes the corpus's worst strings into the real form.

Each one is refused with a message or stored and shown literally; nothing runs in the
browser, and the page goes on taking ordinary issues.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from models import issues
from tests.browser.conftest import open_app, submit_issue
from tests.browser.test_group_flow import shown_statement

pytestmark = pytest.mark.browser

GROUP = "เขตตรวจราชการที่ 9"  # a group no other browser test writes for
CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile" / "strings.json"
PASTED = (
    "img onerror",
    "Markdown image",
    "Streamlit directives",
    "formula HYPERLINK",
    "ZWJ family sequence",
    "Zalgo",
    "right-to-left override",
)


def test_group_pastes_hostile_strings(page: Page, server: Any) -> None:
    cases = {c["name"]: c for c in json.loads(CORPUS.read_text("utf-8"))["cases"]}
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_app(page, f"{server.url}/?join={server.join_codes[GROUP]}")
    group = server.group(GROUP)
    alert = page.locator("[data-testid='stAlert']")
    for name in PASTED:
        case = cases[name]
        before = len(issues.group_issues(server.engine, group.id))  # type: ignore[arg-type]
        submit_issue(page, case["text"])
        after = issues.group_issues(server.engine, group.id)  # type: ignore[arg-type]
        if case["expect"] == "store":
            assert after[0].statement == case["text"], name
            expect(shown_statement(page, case["text"]), name).to_have_count(1)
        else:
            assert len(after) == before, name
            expect(alert.filter(has_text="“ประเด็นปัญหา”"), name).to_have_count(1)
            expect(page.locator(".st-key-new_statement textarea")).to_have_value(case["text"])
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("img[src='http://evil.example/a.png']")).to_have_count(0)
    assert dialogs == []  # no onerror, no script ran

    ordinary = f"ครูไม่พอ {uuid.uuid4().hex[:8]}"
    submit_issue(page, ordinary)
    expect(shown_statement(page, ordinary)).to_have_count(1)
