"""Every page every role may open, audited by axe-core in Chromium (issue #14 items 1, 3).

axe-core comes pinned from npm (package.json; `make test` installs it through
scripts/ensure-test-tools). The audit runs the WCAG 2.0/2.1 A and AA rules at laptop and
phone width; a serious or critical violation fails the test with what axe reported.
docs/accessibility.md says what is audited where, and lists any rule left out (none).

Cheap by design (the suite has a 10-minute budget): one server for the module, with
themes, votes, scores and recommendations seeded through models/ so every page has
something to show; one sign-in per role; the workshop moves between phases through the
models API on the server's database, not the UI; each page is audited at both widths
without a reload (Streamlit lays out by CSS); one test per role, so xdist spreads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from models import access, issues, phases, recommendations, themes, votes, workshops
from models.access import Identity
from models.schema import Phase, Role
from pages._ui import STREAMLIT_NAMES
from tests.browser.conftest import ROOT, Server, _running_server, open_app, sign_in, wait_idle

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (1366, 390)
AUDIT = """async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ rule: v.id, impact: v.impact, help: v.help,
                   where: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
}"""
# The aria-labels Streamlit's own English names still give (pages/_ui.STREAMLIT_NAMES: a
# key ending in a space is a prefix), and the skip link's name if it is still English.
STILL_ENGLISH = """(words) => {
  const found = [...document.querySelectorAll("[aria-label]")]
    .map((el) => el.getAttribute("aria-label"))
    .filter((l) => words.some((w) => (w.endsWith(" ") ? l.startsWith(w) : l === w)));
  const skip = document.querySelector("[data-testid='stSkipToContent']");
  if (skip && !skip.getAttribute("aria-label")) found.push(skip.textContent);
  return found;
}"""
# Two animation frames: the layout for the new width has been computed and painted.
LAID_OUT = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"

# The phases in which each page shows something different (models/phases.py RULES; the
# reveal ends silent generation and is on from the group phase here). A page that depends
# on the data only, not the phase, is audited once, in the phase with the most data.
PAGE_PHASES: dict[str, tuple[Phase, ...]] = {
    "group_issues": (Phase.COLLECT, Phase.GROUP),  # entry form; closed, every group's issues
    "group_vote": (Phase.COLLECT, Phase.VOTE),  # closed; voting
    "group_recommend": (Phase.COLLECT, Phase.RECOMMEND),  # closed; proposing
    "overview": (Phase.PRESENT,),
    "ranking": (Phase.VOTE, Phase.PRESENT),  # scoring open; closed
    "present": (Phase.PRESENT,),
    "facilitate": (Phase.COLLECT, Phase.GROUP),  # silent; revealed
    "board": (Phase.COLLECT, Phase.PRESENT),  # themes editable; closed
    "recommendations": (Phase.VOTE, Phase.RECOMMEND),  # read-only; editable
    "organizer_workshop": (Phase.COLLECT,),
    "organizer_groups": (Phase.COLLECT,),
    "organizer_join": (Phase.COLLECT,),
    "organizer_data": (Phase.COLLECT,),
}
ORGANIZER_ONLY = [name for name, roles in access.PAGE_ROLES.items() if roles == {Role.ORGANIZER}]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server (it moves the workshop through phases: the other browser
    tests of this worker keep theirs in collect), seeded so every page has content."""
    with _running_server(tmp_path_factory.mktemp("a11y")) as running:
        _seed(running)
        yield running


def _seed(server: Server) -> None:
    """Themes, votes, a score and recommendations, through the commands the pages use."""
    engine, workshop_id = server.engine, server.workshop_id
    staff = Identity(Role.FACILITATOR, workshop_id)
    found = issues.workshop_issues(engine, workshop_id)
    made = [
        themes.create_theme(
            engine,
            actor="facilitator",
            workshop_id=workshop_id,
            title=f"ประเด็นหลัก {n + 1}",
            issue_ids=[i.id for i in found[n::3] if i.id is not None],
        )
        for n in range(3)
    ]
    theme_ids = [t.id for t in made if t.id is not None]
    _set_phase(server, Phase.VOTE)
    for index, group in enumerate(workshops.list_groups(engine, workshop_id)[:3]):
        voter = Identity(Role.GROUP, workshop_id, group.id)
        votes.cast_votes(engine, identity=voter, theme_id=theme_ids[index % 2], count=2)
    votes.set_score(engine, identity=staff, theme_id=theme_ids[0], impact=4, feasibility=3)
    _set_phase(server, Phase.RECOMMEND)
    text = "จัดอบรมครูร่วมกันในเครือข่ายโรงเรียน"
    recommendations.add_recommendation(
        engine,
        identity=staff,
        theme_id=theme_ids[0],
        data=recommendations.RecommendationInput(level="school", text=text, owner="สพป."),
    )
    group = workshops.list_groups(engine, workshop_id)[0]
    recommendations.add_recommendation(
        engine,
        identity=Identity(Role.GROUP, workshop_id, group.id),
        theme_id=theme_ids[1],
        data=recommendations.RecommendationInput(level="cluster", text=text),
    )


def _set_phase(server: Server, phase: Phase) -> None:
    phases.set_phase(server.engine, actor="test", workshop_id=server.workshop_id, phase=phase)
    phases.set_reveal(
        server.engine,
        actor="test",
        workshop_id=server.workshop_id,
        revealed=phase is not Phase.COLLECT,
    )


def _audit(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(AUDIT, TAGS)


def _audit_widths(page: Page, label: str, found: dict[str, Any]) -> None:
    """Audit the page as it is at each width: Streamlit's layout follows by CSS, no reload."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate(LAID_OUT)
        if violations := _audit(page):
            found[f"{label} @ {width}px"] = violations
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def _audit_role(page: Page, server: Server, role: Role, names: list[str]) -> dict[str, Any]:
    """Open each of `names` in each phase where it changes, phase by phase; the findings.

    The session is already in (joined, watching or signed in); what proves the role in
    the URL (a group's or viewer's code) goes along to each page.
    """
    query = "?" + page.url.split("?", 1)[1] if "?" in page.url else ""
    found: dict[str, Any] = {}
    for phase in Phase:
        due = [name for name in names if phase in PAGE_PHASES[name]]
        if not due:
            continue
        _set_phase(server, phase)
        for name in due:
            assert access.may_open(role, name)
            page.goto(f"{server.url}/{name}{query}")
            wait_idle(page)
            expect(page.locator("[data-testid='stException']")).to_have_count(0)
            _audit_widths(page, f"{name} ({phase.value})", found)
            if english := _still_english(page):
                found[f"{name} ({phase.value}): Streamlit's English names"] = english
    return found


def _still_english(page: Page) -> list[str]:
    """Streamlit's own English names left on this Thai page (renamed within a frame)."""
    try:
        page.wait_for_function(
            f"(words) => ({STILL_ENGLISH})(words).length === 0",
            arg=list(STREAMLIT_NAMES),
            timeout=3_000,
        )
    except PlaywrightTimeout:
        return list(page.evaluate(STILL_ENGLISH, list(STREAMLIT_NAMES)))
    return []


def _pages_of(role: Role) -> list[str]:
    return [name for name in access.PAGE_ROLES if access.may_open(role, name)]


def _html_lang(page: Page) -> str:
    return str(page.evaluate("() => document.documentElement.lang"))


@pytest.fixture(autouse=True)
def _axe_installed() -> None:
    assert Path(AXE).is_file(), "axe-core missing: run scripts/ensure-test-tools"


def _skip_link_words(page: Page) -> str:
    """What the skip link shows when the first Tab reaches it (app.css draws its name in
    the page's language over Streamlit's English words); empty unless it is seen."""
    page.keyboard.press("Tab")
    return str(
        page.evaluate("""() => {
          const el = document.activeElement;
          if (el?.dataset.testid !== "stSkipToContent") return "";
          if (el.getBoundingClientRect().width < 20) return "";  // focused yet unseen
          const after = getComputedStyle(el, "::after").content;
          return after.startsWith('"') ? JSON.parse(after) : el.innerText;
        }""")
    )


def test_visitor_home_in_both_languages(page: Page, server: Server) -> None:
    """The start page and its tabs, in Thai and in English; `<html lang>` says which
    (the switch itself is clicked in the organizer's test)."""
    open_app(page, server.url)
    expect(page.locator("html")).to_have_attribute("lang", "th")
    assert _skip_link_words(page) == "ข้ามไปยังเนื้อหาหลัก"
    found: dict[str, Any] = {}
    for tab in ("กลุ่มย่อย", "ผู้ดำเนินการ / ผู้จัด"):
        page.get_by_role("tab", name=tab).click()
        _audit_widths(page, f"home, tab {tab}", found)
        if english := _still_english(page):
            found[f"home, tab {tab}: Streamlit's English names"] = english
    eye = page.locator(".st-key-staff_secret button")  # the password's show/hide eye
    expect(eye).to_have_accessible_name("แสดงรหัสผ่าน")
    open_app(page, f"{server.url}/?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert _skip_link_words(page) == "Skip to main content"
    _audit_widths(page, "home (en)", found)
    assert found == {}


def test_group_pages(page: Page, server: Server) -> None:
    open_app(page, f"{server.url}/?join={next(iter(server.join_codes.values()))}")
    assert _audit_role(page, server, Role.GROUP, _pages_of(Role.GROUP)) == {}


def test_viewer_pages(page: Page, server: Server) -> None:
    workshop = workshops.get_workshop(server.engine, workshop_id=server.workshop_id)
    open_app(page, f"{server.url}/?view={workshop.view_code}")
    assert _audit_role(page, server, Role.VIEWER, _pages_of(Role.VIEWER)) == {}
    page.goto(f"{server.url}/overview?view={workshop.view_code}")
    wait_idle(page)
    expect(page.locator("[data-testid='stPlotlyChart']").first).to_be_visible()
    # No plotly toolbar: its buttons were Tab stops with English names on every chart.
    expect(page.locator("[data-testid='stPlotlyChart'] .modebar-btn")).to_have_count(0)


def test_facilitator_pages(page: Page, server: Server) -> None:
    sign_in(page, server, "facilitator")
    assert _audit_role(page, server, Role.FACILITATOR, _pages_of(Role.FACILITATOR)) == {}


def test_organizer_pages(page: Page, server: Server) -> None:
    """The organizer's own pages (the staff pages it shares with the facilitator render
    the same for both: audited above). The uploader is named in the session's language
    only: Streamlit's own "Upload" must not stay in its accessible name."""
    sign_in(page, server, "organizer")
    assert _audit_role(page, server, Role.ORGANIZER, ORGANIZER_ONLY) == {}
    assert page.url.split("?")[0].endswith("/organizer_data")
    for lang, name in (("th", "เลือกไฟล์"), ("en", "Choose a file")):
        if lang == "en":
            page.locator(".st-key-language").get_by_text("English", exact=True).click()
            wait_idle(page)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        button = page.locator("[data-testid='stFileUploaderDropzone'] button").first
        expect(button).to_have_accessible_name(name)
        # Streamlit's own names follow the switch both ways (pages/_ui.speak_streamlit_in).
        sidebar = {"th": "แถบด้านข้าง", "en": "Sidebar"}[lang]
        expect(page.locator("[data-testid='stSidebar']")).to_have_attribute("aria-label", sidebar)
