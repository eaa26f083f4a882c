"""End to end, as people at the venue use it: a group enters issues, staff sign in.

Every test drives the real server (see conftest.py) in headless Chromium and checks
what a person would see; the group tests also check what the database holds.
"""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Locator, Page, expect

from models import issues, workshops
from tests.browser.conftest import open_app, open_cold, sign_in, submit_issue, wait_idle

pytestmark = pytest.mark.browser

GROUP = "เขตตรวจราชการที่ 3"
# A widget key that exists only on that staff page (Streamlit renders `key=` as a class).
STAFF_ONLY = {
    "facilitate": ".st-key-phase_select",
    "organizer_workshop": ".st-key-ws_title",
    "organizer_groups": ".st-key-add_group_name",
    "organizer_join": ".st-key-join_qr_size",
    "overview": ".st-key-chart_by_domain",
    "board": ".st-key-board_search",
    "organizer_data": ".st-key-import_file",
}


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def heading(page: Page, text: str) -> Locator:
    return page.locator("h1", has_text=text)


def shown_statement(page: Page, text: str) -> Locator:
    """Issue statements are rendered with st.text (plain text, never Markdown)."""
    return page.locator("[data-testid='stText']", has_text=text)


def test_group_adds_issue_and_keeps_role_after_refresh(page: Page, server: Any) -> None:
    code = server.join_codes[GROUP]
    open_app(page, f"{server.url}/?join={code}")
    expect(heading(page, GROUP)).to_be_visible()

    # "e" + combining acute: the database must hold the composed (NFC) "é".
    typed = f"ครูขาดแคลนในโรงเรียนขนาดเล็ก ทดสอบ-{uuid.uuid4().hex[:8]} cafe\u0301"
    submit_issue(page, typed, cause="อัตรากำลังครูไม่ครบตามเกณฑ์")
    stored_text = unicodedata.normalize("NFC", typed)
    expect(shown_statement(page, stored_text)).to_have_count(1)
    expect(page.locator(".st-key-new_statement textarea")).to_have_value("")

    page.reload()
    wait_idle(page)
    assert query(page).get("join") == [code]
    expect(heading(page, GROUP)).to_be_visible()
    expect(shown_statement(page, stored_text)).to_have_count(1)

    group = server.group(GROUP)
    stored = [i for i in issues.group_issues(server.engine, group.id) if "ทดสอบ-" in i.statement]  # type: ignore[arg-type]
    assert [i.statement for i in stored] == [stored_text]
    assert stored_text != typed  # the check above really is about normalisation
    assert stored[0].group_id == group.id
    assert stored[0].cause == "อัตรากำลังครูไม่ครบตามเกณฑ์"


def test_group_cannot_open_staff_pages_by_url(page: Page, server: Any) -> None:
    """A group typing a staff page's address gets its own page. (A visitor without a code
    gets the join form: tests/browser/test_security_flow.py.)"""
    code = server.join_codes[GROUP]
    open_app(page, f"{server.url}/?join={code}")
    expect(heading(page, GROUP)).to_be_visible()
    for name, selector in STAFF_ONLY.items():
        open_app(page, f"{server.url}/{name}?join={code}")
        expect(heading(page, GROUP)).to_be_visible()  # the group's own page instead
        expect(page.locator(selector), f"{name} reachable").to_have_count(0)
        for title in ("ดำเนินการประชุม", "แก้ไขข้อมูลการประชุม", "กลุ่มย่อยและด้าน", "ภาพรวม"):
            expect(page.locator("h1", has_text=title), f"{name}: {title}").to_have_count(0)
        expect(page.locator(".st-key-staff_secret")).to_have_count(0)


def test_wrong_join_code_is_refused(page: Page, server: Any) -> None:
    open_app(page, f"{server.url}/?join=WRONG123")
    expect(page.locator("[data-testid='stAlert']", has_text="รหัสไม่ถูกต้อง")).to_be_visible()
    expect(page.locator(".st-key-new_statement")).to_have_count(0)
    for name in server.join_codes:
        expect(heading(page, name)).to_have_count(0)
    assert "join" not in query(page)


def test_user_text_is_shown_as_plain_text(page: Page, server: Any) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    image = "http://127.0.0.1:1/x.png"
    marker = uuid.uuid4().hex[:8]
    hostile = f"**ตัวหนา** <script>alert(1)</script> ![x]({image}) {marker}"
    open_app(page, f"{server.url}/?join={server.join_codes[GROUP]}")
    submit_issue(page, hostile, cause=hostile)

    expect(shown_statement(page, hostile)).to_have_count(1)
    # The cause goes through the Markdown caption path, escaped: still literal (a bare
    # link's scheme carries an invisible WORD JOINER there, so it is no link either).
    captions = page.locator("[data-testid='stCaptionContainer']").all_inner_texts()
    assert sum(hostile in caption.replace("\u2060", "") for caption in captions) == 1
    expect(page.locator("strong", has_text="ตัวหนา")).to_have_count(0)
    expect(page.locator(f"img[src='{image}']")).to_have_count(0)
    expect(page.locator("script", has_text="alert(1)")).to_have_count(0)
    page.reload()
    wait_idle(page)
    expect(shown_statement(page, hostile)).to_have_count(1)
    assert dialogs == []


def test_facilitator_signs_in_and_survives_refresh(page: Page, server: Any) -> None:
    sign_in(page, server, "facilitator")

    nav = page.locator("[data-testid='stSidebarNav']")
    nav.get_by_role("link", name="ดำเนินการประชุม").click()
    wait_idle(page)
    expect(page.locator("h1", has_text="ดำเนินการประชุม")).to_be_visible()
    expect(page.locator(".st-key-phase_select")).to_be_visible()
    expect(nav.get_by_role("link", name="ข้อมูลการประชุม")).to_have_count(0)  # organizer's

    page.reload()  # a new session: the browser's cookie proves the role, not the URL
    wait_idle(page)
    assert "s" not in query(page)
    assert urlparse(page.url).path.rstrip("/").endswith("facilitate")
    expect(page.locator(".st-key-phase_select")).to_be_visible()


def test_staff_only_selectors_are_real(page: Page, server: Any) -> None:
    """The organizer does reach every page above: the absence checks are not vacuous."""
    sign_in(page, server, "organizer")
    for name, selector in STAFF_ONLY.items():
        open_app(page, f"{server.url}/{name}")  # a new session each, signed in by cookie
        expect(page.locator(selector), name).to_have_count(1)


def test_group_link_works_as_first_request_after_restart(page: Page, fresh_server: Any) -> None:
    """After a restart, a group's browser refreshes its page: the server's first request.

    Streamlit routes a process's runs through the `pages/` folder (MPA v1) until some run
    has called `st.navigation`, so this first request must still go through app.py.
    """
    code = fresh_server.join_codes[GROUP]
    open_cold(page, f"{fresh_server.url}/group_issues?join={code}", heading(page, GROUP))
    expect(page.locator(".st-key-new_statement textarea")).to_be_visible()
    nav = page.locator("[data-testid='stSidebarNav']")
    for name in STAFF_ONLY:
        expect(nav.locator(f"a[href$='/{name}']"), name).to_have_count(0)


def test_first_visitor_after_restart_switches_language(page: Page, fresh_server: Any) -> None:
    """The start page as a server's first request: the language switch's first click
    counts (that run gives the sidebar's widgets other ids than later runs: app.py `_take`)."""
    open_cold(page, fresh_server.url, page.locator(".st-key-language"))
    page.locator(".st-key-language").get_by_text("English", exact=True).click()
    wait_idle(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("tab", name="Breakout group")).to_be_visible()
    page.locator(".st-key-language").get_by_text("ไทย", exact=True).click()
    wait_idle(page)
    expect(page.locator("html")).to_have_attribute("lang", "th")


def test_a_typed_page_address_opens_that_page(page: Page, server: Any) -> None:
    """A bookmarked or typed `/group_issues?join=…` (or a viewer's `/overview?view=…`) is
    the role's first page: it must open as itself, not as Streamlit's "Page not found"."""
    view = workshops.get_workshop(server.engine, workshop_id=server.workshop_id).view_code
    for path, shown in (
        (f"/group_issues?join={server.join_codes[GROUP]}", heading(page, GROUP)),
        (f"/overview?view={view}", page.locator(STAFF_ONLY["overview"])),
    ):
        open_app(page, server.url + path)
        expect(shown.first).to_be_visible()
        expect(page.get_by_text("Page not found")).to_have_count(0)
        assert urlparse(page.url).path == path.split("?")[0], page.url
        page.context.clear_cookies()
