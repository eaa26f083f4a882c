"""Keyboard only (issue #14 item 2): a group joins, enters, edits, deletes and saves an
issue and votes; the facilitator moves the phases and uses the board's main actions.

Nothing here clicks or focuses an element from script: after the page loads, every step
is a key press (Tab, Shift+Tab, Enter, Space, arrows, typing), as someone without a mouse
works. At every Tab stop the focused control must show its focus (an outline of at least
2 px, 3:1 against what is behind it: WCAG 2.4.7 and 1.4.11). Results are checked in the
database (through models/) and on the page.

What Streamlit's widgets need from a keyboard user (found while writing this):
- a text field commits on Enter or when Tab leaves it (either starts a rerun); in a form,
  Enter in a single-line field submits the form;
- a select opens with ArrowDown or by typing (which narrows its list), moves with the
  arrows and takes Enter;
- radio options and tabs move (and choose) with the arrow keys, one Tab stop per group;
- pills are buttons: Space or Enter toggles one;
- a number field takes typing (Enter commits) or ArrowUp/ArrowDown steps;
- the board's table (a canvas grid) can take focus but its row ticks need a pointer: the
  board's "issue numbers" field beside it picks issues for every action by keyboard.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from models import issues, themes, votes, workshops
from models.schema import Phase
from tests.browser.conftest import FACILITATOR_PIN, TRACK_RUNS, Server, _running_server, wait_idle

pytestmark = pytest.mark.browser

GROUP = "เขตตรวจราชการที่ 6"  # no demo issue: the group's list holds only what this test adds
MAX_TABS = 60  # Tab presses to reach a control before the test gives up on it

# Where focus is, whether `selector` (and `text`, if given) matches it, and whether the
# focused control shows it: the element itself or the frame, label or table drawn around
# it has an outline of 2 px or more, 3:1 against the colour behind.
FOCUS = """([selector, text]) => {
  const el = document.activeElement;
  if (!el || el === document.body) return { none: true };
  const rgb = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const behind = (node) => {
    for (let n = node; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  let ring = null;
  let contrast = 0;
  for (let n = el, i = 0; n && i < 12; n = n.parentElement, i++) {
    const s = getComputedStyle(n);
    if (s.outlineStyle === "none" || parseFloat(s.outlineWidth) < 2) continue;
    const [a, b] = [luminance(rgb(s.outlineColor)), luminance(behind(n.parentElement))];
    contrast = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    ring = n;
    break;
  }
  const label = (el.getAttribute("aria-label") || el.innerText || el.value || "").trim();
  const target = el.closest(selector);
  return {
    // A link's or button's icon is a ligature: its name is the last line of its text.
    match: !!target && (text === null || label.split("\\n").pop().trim() === text),
    shown: !!ring && contrast >= 3,
    what: `${el.closest("[data-testid]")?.dataset.testid || el.tagName} "${label.slice(0, 30)}"`,
    contrast: Math.round(contrast * 10) / 10,
  };
}"""


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server: it moves the workshop's phases."""
    with _running_server(tmp_path_factory.mktemp("keyboard")) as running:
        yield running


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    """A laptop's browser with no mouse in use (a fresh context per test)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    context.set_default_timeout(20_000)
    context.add_init_script(TRACK_RUNS)
    yield context.new_page()
    context.close()


def tab_to(page: Page, selector: str, text: str | None = None, *, back: bool = False) -> None:
    """Press Tab (Shift+Tab when `back`) until focus is on `selector` (with label `text`);
    every stop on the way must show its focus."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        wait_idle(page)  # leaving a text field may start a rerun, which redraws the page
        where = page.evaluate(FOCUS, [selector, text])
        if where.get("none"):
            continue  # between the page's end and its start
        seen.append(where["what"])
        assert where["shown"], f"focus not visible on {where['what']} ({where['contrast']}:1)"
        if where["match"]:
            return
    raise AssertionError(f"no Tab stop matches {selector} {text or ''}: {seen}")


def choose(page: Page, select: str, option: str, *, tries: int = 3) -> None:
    """In the select at `select` (focused, or reached by Tab), open the list, wait for
    `option`, take it with Enter.

    The page's background refresh (the follow fragment, every 2 s) now and then takes the
    focus off a select, to the page's body: seen in about one run in six of this module
    after the accessibility audit, with no blur() call, the element still in the page
    (docs/accessibility.md, known gaps). A keyboard user then Tabs back to it and tries
    again; so does this, at most `tries` times.
    """
    for _ in range(tries):
        if not page.evaluate(FOCUS, [select, None]).get("match"):
            tab_to(page, select)
        page.keyboard.press("ArrowDown")
        try:
            expect(page.get_by_role("option", name=option)).to_be_visible(timeout=5_000)
            press(page, "Enter")
            expect(page.locator(select)).to_have_value(option, timeout=5_000)
            return
        except AssertionError:
            page.keyboard.press("Escape")  # a list left open
    raise AssertionError(f"{select}: {option} not taken in {tries} tries")


def press(page: Page, key: str) -> None:
    page.keyboard.press(key)
    wait_idle(page)


def said(page: Page, text: str) -> None:
    """The page reports the command's result: waited for before the database is read (on
    a loaded machine the run may start after wait_idle has stopped waiting for it)."""
    expect(page.locator("[data-testid='stAlert']", has_text=text).first).to_be_visible()


def heading(page: Page, text: str) -> None:
    expect(page.locator("h1", has_text=text)).to_be_visible()


def test_group_works_by_keyboard(desk: Page, room: Server) -> None:
    page = desk
    group = room.group(GROUP)
    page.goto(room.url)
    wait_idle(page)

    # Join: the code typed on the start page, Enter submits.
    tab_to(page, ".st-key-join_code input")
    page.keyboard.type(room.join_codes[GROUP])
    press(page, "Enter")
    heading(page, GROUP)

    # Enter an issue: domain by arrows, text by typing, an affected level by Space, save.
    tab_to(page, ".st-key-new_domain input")
    page.keyboard.press("Control+a")
    page.keyboard.type("งบประมาณ")  # narrows the (fuzzy-matched) list to the budget domain
    expect(page.get_by_role("option")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(".st-key-new_domain input")).to_have_value("งบประมาณ")
    tab_to(page, ".st-key-new_statement textarea")
    statement = "ครูต้องทำงานธุรการจนไม่มีเวลาสอน (พิมพ์ด้วยแป้นพิมพ์)"
    page.keyboard.type(statement)
    tab_to(page, ".st-key-new_cause textarea")
    page.keyboard.type("ไม่มีเจ้าหน้าที่ธุรการประจำโรงเรียน")
    tab_to(page, ".st-key-new_affected button", "สถานศึกษา")
    page.keyboard.press("Space")
    tab_to(page, "[data-testid='stFormSubmitButton'] button", "บันทึกประเด็นปัญหา")
    press(page, "Enter")
    said(page, "บันทึกแล้ว")
    stored = issues.group_issues(room.engine, group.id)  # type: ignore[arg-type]
    assert [i.statement for i in stored] == [statement]
    issue = stored[0]
    assert issue.cause == "ไม่มีเจ้าหน้าที่ธุรการประจำโรงเรียน"
    assert [level.value for level in issues.affected_levels(issue)] == ["school"]
    expect(page.locator(f".st-key-issue_{issue.id} [data-testid='stText']")).to_have_text(statement)

    # Edit it: open the editor, replace the statement, save.
    tab_to(page, f".st-key-edit_{issue.id} button")
    press(page, "Enter")
    tab_to(page, f".st-key-edit{issue.id}_statement textarea")
    page.keyboard.press("Control+a")
    edited = "ครูต้องทำงานธุรการแทนการสอน (แก้ไขแล้ว)"
    page.keyboard.type(edited)
    tab_to(page, f".st-key-issue_{issue.id} button", "บันทึก")
    press(page, "Enter")
    expect(page.locator(f".st-key-issue_{issue.id} [data-testid='stText']")).to_have_text(edited)
    assert [i.statement for i in issues.group_issues(room.engine, group.id)] == [edited]  # type: ignore[arg-type]

    # Delete it, undo the delete.
    tab_to(page, f".st-key-edit_{issue.id} button")
    press(page, "Enter")
    tab_to(page, f".st-key-issue_{issue.id} button", "ลบ")
    press(page, "Enter")
    said(page, "ลบประเด็นแล้ว")
    expect(page.locator(f".st-key-issue_{issue.id}")).to_have_count(0)
    assert issues.group_issues(room.engine, group.id) == []  # type: ignore[arg-type]
    tab_to(page, ".st-key-undo_delete_button button", back=True)
    press(page, "Enter")
    expect(page.locator(f".st-key-issue_{issue.id} [data-testid='stText']")).to_have_text(edited)
    assert [i.statement for i in issues.group_issues(room.engine, group.id)] == [edited]  # type: ignore[arg-type]


def test_facilitator_and_group_by_keyboard(desk: Page, browser: Browser, room: Server) -> None:
    """The facilitator signs in, opens the board, creates a theme from typed issue numbers,
    moves two more issues into it, undoes that, and opens the vote; the group votes."""
    page = desk
    page.goto(room.url)
    wait_idle(page)

    # Sign in: the staff tab by arrows, the role radio as it is, the PIN, Enter.
    tab_to(page, "[data-testid='stTab']", "กลุ่มย่อย")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    tab_to(page, ".st-key-staff_secret input")
    page.keyboard.type(FACILITATOR_PIN)
    press(page, "Enter")
    expect(page.locator(".st-key-logout")).to_be_visible()

    def set_phase(steps: int, phase: Phase) -> None:
        """On the facilitate page: move the phase radio `steps` to the right, submit."""
        tab_to(page, "[data-testid='stSidebarNav'] a", "ดำเนินการประชุม", back=True)
        press(page, "Enter")
        heading(page, "ดำเนินการประชุม")
        tab_to(page, ".st-key-phase_select input")
        for _ in range(steps):
            page.keyboard.press("ArrowRight")
        tab_to(page, "[data-testid='stFormSubmitButton'] button", "เปลี่ยนขั้นตอน")
        press(page, "Enter")
        said(page, "เปลี่ยนเป็นขั้นตอน")
        assert phases_now() == phase

    def phases_now() -> Phase:
        return Phase(workshops.get_workshop(room.engine, workshop_id=room.workshop_id).phase)

    set_phase(1, Phase.GROUP)

    # The board: issue numbers typed (the table's ticks need a pointer), a title, create.
    tab_to(page, "[data-testid='stSidebarNav'] a", "จัดกลุ่มประเด็น", back=True)
    press(page, "Enter")
    heading(page, "จัดกลุ่มประเด็น")
    first, second, third, fourth = [
        i.id for i in themes.board(room.engine, room.workshop_id).ungrouped[:4]
    ]
    tab_to(page, ".st-key-board_numbers input")
    page.keyboard.type(f"{first}, {second}")
    press(page, "Tab")  # leaving the field commits it
    tab_to(page, ".st-key-board_new_title input")
    page.keyboard.type("ภาระงานครูนอกเหนือการสอน")
    tab_to(page, ".st-key-board_create button")
    press(page, "Enter")
    said(page, "สร้างประเด็นหลักแล้ว")
    made = themes.board(room.engine, room.workshop_id).themes
    assert [(v.theme.title, sorted(i.id for i in v.issues)) for v in made] == [
        ("ภาระงานครูนอกเหนือการสอน", sorted([first, second]))
    ]
    theme_id = made[0].theme.id
    expect(page.locator(f".st-key-theme_card_{theme_id}")).to_be_visible()

    # Move two more into it (the only theme: the select already holds it), then undo.
    tab_to(page, ".st-key-board_numbers input", back=True)
    page.keyboard.type(f"{third} {fourth}")
    tab_to(page, ".st-key-board_move_target input")
    # Leaving the field committed it: the page says what is picked (a run that could still
    # redraw the select under the open list has ended).
    expect(page.get_by_text(f"เลือกไว้ 2 ประเด็น: {third}, {fourth}")).to_be_visible()
    # The select was drawn before the first theme existed, so it holds none yet and asks
    # for one: open its list, wait for the theme to be offered, take it.
    expect(page.locator(".st-key-board_move_target input")).to_have_attribute(
        "placeholder", "เลือกประเด็นหลัก"
    )
    choose(page, ".st-key-board_move_target input", "ภาระงานครูนอกเหนือการสอน")
    tab_to(page, ".st-key-board_move button")
    press(page, "Enter")
    said(page, "ย้ายแล้ว")
    moved = themes.board(room.engine, room.workshop_id).themes[0]
    assert sorted(i.id for i in moved.issues) == sorted([first, second, third, fourth])
    tab_to(page, ".st-key-board_undo button", "เลิกทำ: ย้ายประเด็น", back=True)
    press(page, "Enter")
    said(page, "เลิกทำแล้ว")
    undone = themes.board(room.engine, room.workshop_id).themes[0]
    assert sorted(i.id for i in undone.issues) == sorted([first, second])

    set_phase(1, Phase.VOTE)

    # The group, on its own laptop (its join link is the page it loads), votes 2.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    context.add_init_script(TRACK_RUNS)
    try:
        group_page = context.new_page()
        group_page.goto(f"{room.url}/?join={room.join_codes[GROUP]}")
        wait_idle(group_page)
        tab_to(group_page, "[data-testid='stSidebarNav'] a", "ลงคะแนน")
        press(group_page, "Enter")
        tab_to(group_page, f".st-key-vote_{theme_id} input")
        group_page.keyboard.press("Control+a")
        group_page.keyboard.type("2")
        press(group_page, "Enter")
        expect(group_page.locator("[data-testid='stMetricValue']")).to_contain_text("3 จาก 5")
        group = room.group(GROUP)
        assert votes.group_votes(room.engine, group.id) == {theme_id: 2}  # type: ignore[arg-type]
    finally:
        context.close()
