"""A group's pages on a phone (issue #14 item 5): 360 px wide, no sideways scrolling, and
every control in the main area offers a finger at least 44 x 44 CSS px (WCAG 2.5.5).

One server of its own (the test moves the workshop through its phases) and one phone-sized
browser. Each page is checked in each phase where it changes (collect, vote, recommend)
and photographed whole into test-artifacts/phone-*.png, to be looked at: Thai must wrap,
nothing may be cut off.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from models import phases, themes, workshops
from models.schema import Phase
from models.workshops import WorkshopInput
from tests.browser.conftest import ARTIFACTS, TRACK_RUNS, Server, _running_server, wait_idle

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
GROUP = "เขตตรวจราชการที่ 1"  # has a demo issue: its card and editor are on the page
TARGET = 44  # CSS px, each way
# The default page of a group is served at "/" (st.navigation's default has no path).
PAGES = {"group_issues": "/", "group_vote": "/group_vote", "group_recommend": "/group_recommend"}

# What a page at this width gets wrong: wider than the screen (the document or Streamlit's
# scrolling main area, which is where overflow would show), and controls under 44 px.
# A control's target is what a tap lands on: a radio's or checkbox's label, a text field's
# or select's whole frame (the native element sits inside it), a slider's track. Tables
# scroll by design.
CHECK = """(size) => {
  const main = document.querySelector("[data-testid='stMain']");
  const controls = "button, input, textarea, a[href], summary, [role=button], [role=checkbox],"
    + " [role=radio], [role=combobox], [role=tab], [role=slider], [tabindex]:not([tabindex='-1'])";
  const frame = "label:has(input[type=radio]), label:has(input[type=checkbox]),"
    + " [data-testid=stTextInputRootElement], [data-testid=stTextAreaRootElement],"
    + " [data-testid=stNumberInputContainer], .react-aria-ComboBox > [role=group],"
    + " [data-testid=stSlider] [role=group]";
  const small = [];
  const seen = new Set();
  for (const element of main.querySelectorAll(controls)) {
    if (element === main || element.closest("[data-testid='stDataFrame']")) continue;
    const target = element.closest(frame) || element;
    if (seen.has(target)) continue;
    seen.add(target);
    const box = target.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (!box.width || !box.height || style.visibility === "hidden") continue;
    if (box.width < size - 0.5 || box.height < size - 0.5) {
      const named = element.closest("[class*='st-key-'], [data-testid]");
      const key = [...(named?.classList || [])].find((c) => c.startsWith("st-key-"));
      const label = element.getAttribute("aria-label") || element.innerText || element.value;
      const name = key || named?.dataset.testid || element.tagName;
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
      small.push(`${name} "${(label || "").slice(0, 30)}" ${size}`);
    }
  }
  return {
    scrollWidth: Math.max(document.documentElement.scrollWidth, main.scrollWidth),
    width: window.innerWidth,
    small,
  };
}"""


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server: the phases it sets must not reach other tests' pages."""
    with _running_server(tmp_path_factory.mktemp("phone")) as running:
        yield running


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="th-TH", has_touch=True)
    context.set_default_timeout(20_000)
    context.add_init_script(TRACK_RUNS)
    yield context.new_page()
    context.close()


def _check(page: Page, name: str, found: dict[str, Any]) -> None:
    """Measure the page as drawn, note what is wrong, and photograph it whole."""
    result = page.evaluate(CHECK, TARGET)
    if result["scrollWidth"] > result["width"]:
        found[f"{name}: scroll width"] = f"{result['scrollWidth']} > {result['width']}"
    if result["small"]:
        found[f"{name}: under {TARGET} px"] = result["small"]
    # Streamlit scrolls its main area, not the document: a viewport as tall as the page
    # is what a full-page screenshot needs.
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": PHONE["width"], "height": max(height, PHONE["height"])})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"))
    page.set_viewport_size(PHONE)


def _open(page: Page, url: str) -> None:
    page.goto(url)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0, url


def _set_phase(room: Server, phase: Phase) -> None:
    phases.set_phase(room.engine, actor="test", workshop_id=room.workshop_id, phase=phase)


def _let_groups_score(room: Server) -> None:
    now = workshops.get_workshop(room.engine, workshop_id=room.workshop_id)
    fields = WorkshopInput.model_validate(now, from_attributes=True)
    workshops.update_workshop(
        room.engine,
        actor="test",
        workshop_id=room.workshop_id,
        data=fields.model_copy(update={"groups_score": True}),
    )


def test_group_pages_fit_a_phone(phone: Page, room: Server) -> None:
    found: dict[str, Any] = {}
    _open(phone, room.url)
    _check(phone, "home", found)

    code = room.join_codes[GROUP]
    _set_phase(room, Phase.GROUP)  # themes, with long Thai titles, for the vote and recommend
    board = themes.board(room.engine, room.workshop_id)
    ids = [issue.id for issue in board.ungrouped]
    for title, part in (
        ("ครูไม่ครบชั้น ขาดแคลนครูในโรงเรียนขนาดเล็กพื้นที่ห่างไกลอย่างต่อเนื่องหลายปีการศึกษา", ids[:5]),
        ("งบประมาณจัดสรรล่าช้า", ids[5:9]),
    ):
        themes.create_theme(
            room.engine, actor="test", workshop_id=room.workshop_id, title=title, issue_ids=part
        )
    _let_groups_score(room)  # the vote page then has sliders too
    for phase in (Phase.COLLECT, Phase.VOTE, Phase.RECOMMEND):
        _set_phase(room, phase)
        for name, path in PAGES.items():
            _open(phone, f"{room.url}{path}?join={code}")
            assert phone.locator("h1").count() > 0, f"{phase.value} {name}: nothing drawn"
            if phase is Phase.VOTE and name == "group_vote":  # 2 themes, 2 scores each
                expect(phone.locator("[data-testid='stSlider']")).to_have_count(4)
            _check(phone, f"{phase.value}-{name}", found)
        if phase is Phase.COLLECT:  # the editor of an issue: three buttons in a row
            _open(phone, f"{room.url}/?join={code}")
            phone.get_by_role("button", name="แก้ไขหรือลบ").first.tap()
            wait_idle(phone)
            expect(phone.get_by_role("button", name="ลบ", exact=True)).to_have_count(1)
            _check(phone, "collect-group_issues-editing", found)
        if phase is Phase.RECOMMEND:  # the theme list, open: long titles wrap, not cut
            phone.locator(".st-key-grp_rec_theme input").click()
            options = phone.get_by_role("option")
            expect(options).to_have_count(2)
            for shown in options.all():
                text = shown.locator("div").first
                cut = text.evaluate("(el) => el.scrollWidth > el.clientWidth + 1")
                height = shown.bounding_box()["height"]  # type: ignore[index]
                if cut or height < TARGET - 0.5:
                    found[f"theme list: {shown.inner_text()[:30]}"] = f"cut={cut} {height:.0f} px"
    assert found == {}
