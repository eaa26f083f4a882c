"""Nobody beyond their role, in a real browser against a real server: URLs, query
strings, what a group's page holds before the reveal, and what the server's log holds.

The role-by-page tables and the models-level checks are in tests/test_security.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect

from models import access, issues, phases, workshops
from models.access import Identity
from models.schema import Role
from tests.browser.conftest import (
    as_staff,
    open_app,
    open_cold,
    sign_in,
    staff_cookie,
    submit_issue,
    wait_idle,
)
from tests.browser.test_group_flow import GROUP, STAFF_ONLY, heading

pytestmark = pytest.mark.browser

OTHER = "เขตตรวจราชการที่ 4"
# The join page's form: what every refused visitor sees instead of a staff page.
JOIN_FORM = ".st-key-join_code input"


def _no_staff_page(page: Page, url: str, *, but: tuple[str, ...] = ()) -> None:
    """No staff-only widget on the page and no staff page offered in the sidebar."""
    names = [name for name in STAFF_ONLY if name not in but]
    widgets = ", ".join(STAFF_ONLY[name] for name in names)
    links = ", ".join(f"[data-testid='stSidebarNav'] a[href$='/{name}']" for name in names)
    expect(page.locator(widgets), f"{url}: a staff widget").to_have_count(0)
    expect(page.locator(links), f"{url}: a link to a staff page").to_have_count(0)


def _refused(page: Page, url: str) -> None:
    """Opening `url` gives the visitor's join page, and nothing of a staff page."""
    open_app(page, url)
    _no_staff_page(page, url)
    expect(page.locator(JOIN_FORM)).to_be_visible()


def test_forged_and_stale_links_reach_no_staff_page(page: Page, server: Any) -> None:
    forged = access._b64(b'{"r": "organizer", "e": 99999999999}') + ".AAAA"
    live = access.make_token(server.engine, Role.ORGANIZER)
    for path, suffix in (
        ("organizer_data", f"?s={forged}"),
        ("facilitate", f"?s={live}"),  # a genuine token in the URL: no longer a way in
        ("board", "?role=organizer"),
        ("organizer_groups", "?identity=organizer&page=organizer_data"),
        # Once only: wrong codes count against this client (all tests share one address).
        ("organizer_data", "?view=WRONG234"),
    ):
        _refused(page, f"{server.url}/{path}{suffix}")
        assert "s=" not in page.url
    # A viewer's code opens the dashboard, and still no staff page by URL.
    workshop = workshops.get_workshop(server.engine, workshop_id=server.workshop_id)
    for path in ("organizer_data", "facilitate"):
        url = f"{server.url}/{path}?view={workshop.view_code}"
        open_app(page, url)
        _no_staff_page(page, url, but=("overview",))  # the viewer's own dashboard
        expect(page.locator(".st-key-new_statement")).to_have_count(0)


def test_tampered_or_stale_staff_cookie_is_refused(
    page: Page, new_page: Callable[[str], Page], server: Any
) -> None:
    sign_in(page, server, "facilitator")
    token = staff_cookie(page)
    assert token is not None
    secret_part, signature = token.split(".")
    expired = access.make_token(server.engine, Role.ORGANIZER, lifetime=-access.TOKEN_LIFETIME)
    for n, bad in enumerate(
        (f"{secret_part}.{signature[:-2]}", secret_part, expired, "forged.token")
    ):
        other = new_page(f"other-{n}")  # another browser: no session, only the cookie
        as_staff(other, f"{server.url}/organizer_data", bad)
        _no_staff_page(other, bad)
        expect(other.locator(JOIN_FORM)).to_be_visible()
        expect(other.get_by_text("การเข้าสู่ระบบหมดอายุ")).to_be_visible()  # says why
        assert staff_cookie(other) is None  # a dead cookie is dropped
    other = new_page("untouched")
    as_staff(other, f"{server.url}/facilitate", token)  # the untouched token works
    expect(other.locator(STAFF_ONLY["facilitate"])).to_be_visible()
    expect(other.locator(STAFF_ONLY["organizer_data"])).to_have_count(0)


def test_sign_out_ends_the_role_and_revokes_the_token(
    page: Page, new_page: Callable[[str], Page], server: Any
) -> None:
    """The issue's steps: sign in, no token in the URL, a reload keeps the role; sign
    out, the staff pages are gone, the URL is clean, a reload stays signed out, and the
    old cookie value opens nothing in another browser."""
    sign_in(page, server, "facilitator")
    token = staff_cookie(page)
    assert token is not None
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.get_by_role("link", name="ดำเนินการประชุม").click()
    wait_idle(page)
    expect(page.locator(STAFF_ONLY["facilitate"])).to_be_visible()
    assert token not in page.url and "s=" not in page.url
    page.reload()
    wait_idle(page)
    expect(page.locator(STAFF_ONLY["facilitate"])).to_be_visible()
    assert token not in page.url
    second = page.context.new_page()  # another tab of this browser: its own session
    open_app(second, f"{server.url}/facilitate")
    expect(second.locator(STAFF_ONLY["facilitate"])).to_be_visible()

    page.locator(".st-key-logout button").click()
    wait_idle(page)
    _no_staff_page(page, "after sign-out")
    expect(page.locator(JOIN_FORM)).to_be_visible()
    expect(page.locator(".st-key-logout")).to_have_count(0)
    assert token not in page.url and "s=" not in page.url
    assert access.parse_token(server.engine, token) is None  # revoked server-side
    page.reload()
    wait_idle(page)
    _no_staff_page(page, "reload after sign-out")
    expect(page.locator(JOIN_FORM)).to_be_visible()
    assert staff_cookie(page) is None
    page.goto(f"{server.url}/facilitate")
    wait_idle(page)
    _no_staff_page(page, "staff page by address after sign-out")

    # The other tab loses the role on its next run (here: switching the language).
    second.locator(".st-key-language").get_by_text("English").click()
    wait_idle(second)
    _no_staff_page(second, "the other tab after sign-out")
    expect(second.locator(JOIN_FORM)).to_be_visible()

    other = new_page("stolen-cookie")  # the old value, replayed from another browser
    as_staff(other, f"{server.url}/facilitate", token)
    _no_staff_page(other, "replayed cookie")
    expect(other.locator(JOIN_FORM)).to_be_visible()


def test_group_sign_out_leaves_the_join_link(page: Page, server: Any) -> None:
    open_app(page, f"{server.url}/?join={server.join_codes[GROUP]}")
    expect(heading(page, GROUP)).to_be_visible()
    page.locator(".st-key-logout button").click()
    wait_idle(page)
    expect(page.locator(JOIN_FORM)).to_be_visible()
    assert "join=" not in page.url
    page.reload()
    wait_idle(page)
    expect(page.locator(JOIN_FORM)).to_be_visible()
    expect(heading(page, GROUP)).to_have_count(0)


class Received:
    """Everything the server sent this page: what reached the browser, whether drawn as
    text, on a dataframe's canvas, or inside a collapsed expander. Streamlit sends most
    messages over the websocket, and large ones by reference, fetched over HTTP from
    /_stcore/message."""

    def __init__(self, page: Page) -> None:
        self.frames: list[bytes] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._keep))
        page.on("response", self._response)

    def _response(self, response: Response) -> None:
        if "/_stcore/" in response.url and response.ok:
            self.frames.append(response.body())

    def _keep(self, payload: bytes | str) -> None:
        self.frames.append(payload.encode() if isinstance(payload, str) else payload)

    def __contains__(self, text: str) -> bool:
        return text.encode() in b"".join(self.frames)


def _open_everything(page: Page) -> None:
    """Open every expander: some send their content only once opened."""
    for summary in page.locator("[data-testid='stMain'] [data-testid='stExpander'] summary").all():
        summary.click()
        wait_idle(page)


def test_group_receives_no_other_groups_text_before_reveal(page: Page, server: Any) -> None:
    marker = f"ความลับของอีกกลุ่ม-{uuid.uuid4().hex[:8]}"
    other = server.group(OTHER)
    domain = workshops.list_domains(server.engine, server.workshop_id)[0]
    issues.add_issue(
        server.engine,
        identity=Identity(Role.GROUP, server.workshop_id, other.id),
        data=issues.IssueInput(domain_id=domain.id, statement=marker),  # type: ignore[arg-type]
    )
    own = f"ของกลุ่มเราเอง-{uuid.uuid4().hex[:8]}"
    received = Received(page)
    open_app(page, f"{server.url}/?join={server.join_codes[GROUP]}")
    submit_issue(page, own)
    expect(page.get_by_text(own)).to_have_count(1)
    _open_everything(page)
    assert own in received  # the recording works: the check below can fail
    assert marker not in received
    # Another group's code in the same tab: a new session, nothing of ours carries over.
    received.frames.clear()
    open_app(page, f"{server.url}/?join={server.join_codes[OTHER]}")
    expect(heading(page, OTHER)).to_be_visible()
    assert marker in received and own not in received
    try:
        phases.set_reveal(
            server.engine, actor="test", workshop_id=server.workshop_id, revealed=True
        )
        received.frames.clear()
        open_app(page, f"{server.url}/?join={server.join_codes[GROUP]}")
        _open_everything(page)
        assert marker in received  # after the reveal it is sent
    finally:
        phases.set_reveal(
            server.engine, actor="test", workshop_id=server.workshop_id, revealed=False
        )


def test_no_secret_in_the_server_log(page: Page, fresh_server: Any) -> None:
    """Sign in as both staff roles and join as a group, then read everything the server
    wrote to stdout and stderr: no PIN, password or token."""
    # The first request after a start goes through Streamlit's old multipage routing
    # (pages/ served by file name) until a session has run app.py: a staff path by name.
    refused = f"{fresh_server.url}/organizer_data"
    open_cold(page, refused, page.locator(JOIN_FORM))
    _no_staff_page(page, refused)
    tokens = []
    for role in ("facilitator", "organizer"):
        sign_in(page, fresh_server, role)
        token = staff_cookie(page)
        assert token is not None
        tokens.append(token)
        page.reload()  # a refresh: a new session proves itself with the cookie
        wait_idle(page)
        expect(page.locator(JOIN_FORM)).to_have_count(0)
        page.locator(".st-key-logout button").click()  # the next role signs in afresh
        wait_idle(page)
    for wrong in ("000000", "not-the-password"):  # wrong tries are not logged either
        open_app(page, fresh_server.url)
        page.get_by_role("tab", name="ผู้ดำเนินการ / ผู้จัด").click()
        page.locator(".st-key-staff_secret input").fill(wrong)
        page.get_by_role("button", name="เข้าสู่ระบบ").click()
        wait_idle(page)
    open_app(page, f"{fresh_server.url}/?join={fresh_server.join_codes[GROUP]}")
    expect(heading(page, GROUP)).to_be_visible()
    with fresh_server.log.open() as log:
        text = log.read()
    assert re.search(r"Local URL|You can now view", text)  # it is the server's own output
    secrets = [fresh_server.facilitator_pin, fresh_server.organizer_password, *tokens]
    for secret in [*secrets, *(t.split(".")[1] for t in tokens), "000000", "not-the-password"]:
        assert secret not in text


def test_urls_in_user_text_are_not_links(page: Page, server: Any) -> None:
    """Markdown turns bare URLs and addresses into links even when escaped (#12, 6): the
    cause goes through a Markdown caption, and must stay plain text."""
    marker = uuid.uuid4().hex[:8]
    typed = f"ดู https://example.com/{marker} และ www.example.org หรือ me@example.co.th"
    open_app(page, f"{server.url}/?join={server.join_codes[GROUP]}")
    submit_issue(page, f"ลิงก์ {marker}", cause=typed)
    caption = page.locator("[data-testid='stCaptionContainer']", has_text=marker)
    expect(caption).to_have_count(1)  # the cause is shown (through Markdown)
    assert caption.inner_text().replace("\u2060", "").endswith(typed)  # reads as typed
    links = page.locator("[data-testid='stMain'] a[href*='example']")
    expect(links).to_have_count(0)
