"""End to end, one workshop session as it runs in the room: themes, phase, votes, ranking.

The facilitator builds two themes on the board by typing issue numbers called out in
the room, opens the vote, two groups vote from their own laptops (their own browser
contexts, opened by their join links), and the ranking shows the result. Every action
goes through the real UI; the database is read only to find issue numbers and theme ids
(what the facilitator and groups read off their screens) and to check what was stored.

It runs on its own server (`fresh_server`): it moves the workshop out of the collecting
phase, which the other browser tests, sharing their worker's server, rely on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from models import ranking, themes, votes, workshops
from models.schema import Phase
from tests.browser.conftest import open_app, sign_in, wait_idle

pytestmark = pytest.mark.browser

THEME_1 = "ครูไม่ครบตามเกณฑ์และภาระงานนอกการสอน"
THEME_2 = "งบประมาณลงถึงโรงเรียนล่าช้า"
GROUP_A = "เขตตรวจราชการที่ 1"
GROUP_B = "เขตตรวจราชการที่ 2"
BUDGET_ERROR = "คะแนนเสียงไม่พอ: กลุ่มมี 5 คะแนน และลงไปแล้ว 5 คะแนน"


def no_exception(page: Page) -> None:
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def go_to(page: Page, title: str) -> None:
    """Open a page from the sidebar navigation, as a person clicks it."""
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.get_by_role("link", name=title, exact=True).click()
    wait_idle(page)
    expect(page.locator("h1", has_text=title)).to_be_visible()
    no_exception(page)


def type_into(page: Page, key: str, value: str) -> None:
    """Type into a text or number input and commit it with Enter (Streamlit's commit)."""
    field = page.locator(f".st-key-{key} input")
    field.fill(value)
    field.press("Enter")
    wait_idle(page)
    no_exception(page)


def alert(page: Page, text: str) -> Locator:
    return page.locator("[data-testid='stAlert']", has_text=text)


def theme_card(page: Page, title: str) -> Locator:
    """The board's expander of a theme; its label is `title · issues · raised by`."""
    return page.locator("[data-testid='stExpander'] summary", has_text=title)


def create_theme(page: Page, numbers: list[int], title: str) -> None:
    """Type the issue numbers called out in the room and a title, then create the theme."""
    type_into(page, "board_numbers", ", ".join(map(str, numbers)))
    picked = f"เลือกไว้ {len(numbers)} ประเด็น: {', '.join(map(str, numbers))}"
    expect(page.get_by_text(picked, exact=True)).to_be_visible()
    type_into(page, "board_new_title", title)
    expect(alert(page, "สร้างประเด็นหลักแล้ว")).to_have_count(0)  # no flash left over
    page.locator(".st-key-board_create button").click()
    wait_idle(page)
    no_exception(page)
    expect(alert(page, "สร้างประเด็นหลักแล้ว")).to_be_visible()


def vote(page: Page, theme_id: int, count: int, *, left: int) -> None:
    """Set the group's votes on a theme and see what the group has left."""
    type_into(page, f"vote_{theme_id}", str(count))
    expect(page.locator(f".st-key-vote_{theme_id} input")).to_have_value(str(count))
    expect(page.locator("[data-testid='stMetricValue']")).to_have_text(f"{left} จาก 5")
    expect(page.locator("[data-testid='stAlert']")).to_have_count(0)


def open_group_vote(page: Page, server: Any, group: str) -> None:
    open_app(page, f"{server.url}/?join={server.join_codes[group]}")
    expect(page.locator("h1", has_text=group)).to_be_visible()
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.get_by_role("link", name="ลงคะแนน", exact=True).click()
    wait_idle(page)
    expect(page.locator("h1", has_text="ลงคะแนนเลือกประเด็นหลัก")).to_be_visible()
    main = page.locator("[data-testid='stMain']")
    expect(main.locator("[data-testid='stCaptionContainer']", has_text=group)).to_be_visible()
    sidebar = page.locator("[data-testid='stSidebarUserContent']")
    expect(sidebar.get_by_text(group)).to_be_visible()  # a shared laptop says which group it is
    no_exception(page)


def test_themes_vote_and_ranking(
    page: Page, fresh_server: Any, new_page: Callable[[str], Page]
) -> None:
    server = fresh_server
    engine, workshop_id = server.engine, server.workshop_id
    group_total = len(workshops.list_groups(engine, workshop_id))
    assert group_total == 20
    # The issue numbers the facilitator reads off the board: two from different groups.
    ungrouped = themes.board(engine, workshop_id).ungrouped
    first = ungrouped[0]
    second = next(i for i in ungrouped if i.group_id != first.group_id)
    third = next(i for i in ungrouped if i.id not in (first.id, second.id))
    pair = [first.id, second.id]

    # 1. The facilitator signs in and builds two themes on the board.
    sign_in(page, server, "facilitator")
    go_to(page, "จัดกลุ่มประเด็น")
    create_theme(page, pair, THEME_1)
    expect(theme_card(page, THEME_1)).to_have_text(
        re.compile(re.escape(f"{THEME_1} · 2 · เสนอโดย 2 จาก {group_total} กลุ่ม"))
    )
    create_theme(page, [third.id], THEME_2)
    expect(theme_card(page, THEME_2)).to_have_text(
        re.compile(re.escape(f"{THEME_2} · 1 · เสนอโดย 1 จาก {group_total} กลุ่ม"))
    )
    expect(page.locator("h3", has_text="ประเด็นหลัก (2)")).to_be_visible()
    built = {view.theme.title: view for view in themes.board(engine, workshop_id).themes}
    assert {i.id for i in built[THEME_1].issues} == set(pair)
    assert {i.id for i in built[THEME_2].issues} == {third.id}
    theme_1, theme_2 = built[THEME_1].theme.id, built[THEME_2].theme.id

    # 2. The facilitator opens the vote.
    go_to(page, "ดำเนินการประชุม")
    page.locator(".st-key-phase_select").get_by_text("4. ลงคะแนน").click()
    page.get_by_role("button", name="เปลี่ยนขั้นตอน").click()
    wait_idle(page)
    no_exception(page)
    expect(page.locator("h3", has_text="ขั้นตอนปัจจุบัน: ลงคะแนน")).to_be_visible()
    assert workshops.get_workshop(engine, workshop_id=workshop_id).phase == Phase.VOTE

    # 3. Two groups vote from their own laptops; group A tries to overspend.
    group_a = new_page("group-a")
    open_group_vote(group_a, server, GROUP_A)
    expect(group_a.locator("[data-testid='stMetricValue']")).to_have_text("5 จาก 5")
    card = group_a.locator(f".st-key-theme_{theme_1}")
    expect(card.locator("[data-testid='stText']")).to_have_text(THEME_1)
    expect(card).to_contain_text(f"2 ประเด็นปัญหา · เสนอโดย 2 จาก {group_total} กลุ่ม")
    vote(group_a, theme_1, 3, left=2)
    vote(group_a, theme_2, 2, left=0)
    type_into(group_a, f"vote_{theme_2}", "3")
    expect(alert(group_a, BUDGET_ERROR)).to_be_visible()
    expect(group_a.locator(f".st-key-vote_{theme_2} input")).to_have_value("2")
    expect(group_a.locator("[data-testid='stMetricValue']")).to_have_text("0 จาก 5")

    group_b = new_page("group-b")
    open_group_vote(group_b, server, GROUP_B)
    vote(group_b, theme_1, 2, left=3)
    vote(group_b, theme_2, 1, left=2)

    # 4. The ranking on the projector.
    go_to(page, "ลำดับประเด็นหลัก")
    grid = page.locator("[data-testid='stDataFrame'] table[role='grid']")
    first_four = "td:nth-child(-n+4)"  # rank, theme, votes, raising groups
    expect(grid.locator("thead th:nth-child(-n+4)")).to_have_text(
        ["อันดับ", "ประเด็นหลัก", "คะแนนเสียง", "กลุ่มที่เสนอ"]
    )
    rows = grid.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(first_four)).to_have_text(["1", THEME_1, "5", f"2/{group_total}"])
    expect(rows.nth(1).locator(first_four)).to_have_text(["2", THEME_2, "3", f"1/{group_total}"])

    # The database holds exactly what was clicked.
    assert votes.group_votes(engine, server.group(GROUP_A).id) == {theme_1: 3, theme_2: 2}
    assert votes.group_votes(engine, server.group(GROUP_B).id) == {theme_1: 2, theme_2: 1}
    assert votes.vote_totals(engine, workshop_id) == {theme_1: 5, theme_2: 3}
    ranked = ranking.rank(engine, workshop_id)
    assert [(r.rank, r.theme.id, r.votes, r.group_count) for r in ranked] == [
        (1, theme_1, 5, 2),
        (2, theme_2, 3, 1),
    ]


def test_two_facilitators_on_one_board(fresh_server: Any, new_page: Callable[[str], Page]) -> None:
    """Ann and Ben share the PIN. Ben picks issues to move into a theme; meanwhile Ann
    renames that theme. Ben's move is refused with a message naming Ann's session, not
    done on a theme he never saw; retried, it goes through. Ann's undo takes back her own
    rename, not Ben's later move."""
    server = fresh_server
    engine, workshop_id = server.engine, server.workshop_id
    first, second, third = (i.id for i in themes.board(engine, workshop_id).ungrouped[:3])

    ann = new_page("ann")
    sign_in(ann, server, "facilitator")
    go_to(ann, "จัดกลุ่มประเด็น")
    create_theme(ann, [first], THEME_1)
    (theme_id,) = (v.theme.id for v in themes.board(engine, workshop_id).themes)

    ben = new_page("ben")
    sign_in(ben, server, "facilitator")
    go_to(ben, "จัดกลุ่มประเด็น")
    type_into(ben, "board_numbers", f"{second}, {third}")
    expect(ben.locator(".st-key-board_move_target input")).to_have_value(THEME_1)  # the target

    # Ann renames the theme Ben is about to fill.
    theme_card(ann, THEME_1).click()
    wait_idle(ann)
    type_into(ann, f"theme_title_{theme_id}", THEME_2)
    ann.locator(f".st-key-theme_save_{theme_id} button").click()
    wait_idle(ann)
    expect(alert(ann, "บันทึกแล้ว")).to_be_visible()

    ben.locator(".st-key-board_move button").click()
    wait_idle(ben)
    no_exception(ben)
    refusal = alert(ben, "ยังไม่ได้ทำรายการนี้")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("ผู้ดำเนินการประชุม #")
    (view,) = themes.board(engine, workshop_id).themes
    assert [i.id for i in view.issues] == [first]  # nothing moved
    expect(ben.get_by_text(f"เลือกไว้ 2 ประเด็น: {second}, {third}", exact=True)).to_be_visible()

    ben.locator(".st-key-board_move button").click()  # Ben has seen it: now it is done
    wait_idle(ben)
    expect(alert(ben, "ย้ายแล้ว")).to_be_visible()
    (view,) = themes.board(engine, workshop_id).themes
    assert sorted(i.id for i in view.issues) == sorted([first, second, third])

    ann.reload()  # a fresh look at the board (the page would follow by itself too)
    wait_idle(ann)
    undo_button = ann.locator(".st-key-board_undo button")
    expect(undo_button).to_contain_text("เลิกทำ: แก้ไขประเด็นหลัก")  # hers, not Ben's move
    undo_button.click()
    wait_idle(ann)
    expect(alert(ann, "เลิกทำแล้ว")).to_be_visible()
    (view,) = themes.board(engine, workshop_id).themes
    assert view.theme.title == THEME_1
    assert sorted(i.id for i in view.issues) == sorted([first, second, third])


def tick_rows(page: Page, rows: list[int]) -> None:
    """Tick board table rows by their checkboxes (the grid is a canvas: click by position)."""
    box = page.locator(".st-key-board_table [data-testid='stDataFrameResizable']").bounding_box()
    assert box is not None
    for row in rows:  # header and rows are 35 px high; the row marker is the first column
        page.mouse.click(box["x"] + 12, box["y"] + 35 + row * 35 + 17)
        wait_idle(page)


def test_board_ticks_follow_their_issues_and_clear_after_create(
    page: Page, fresh_server: Any
) -> None:
    """Issue #11 item 2 in the browser: ticks made in the table stay on the same issues
    when a colleague's change moves the rows (the page follows the room), and are cleared
    with the typed title once the theme is created from them."""
    server = fresh_server
    engine, workshop_id = server.engine, server.workshop_id
    ids = [i.id for i in themes.board(engine, workshop_id).ungrouped]
    sign_in(page, server, "facilitator")
    go_to(page, "จัดกลุ่มประเด็น")
    picked = page.get_by_text(re.compile(r"^เลือกไว้ "))
    tick_rows(page, [2, 3])
    expect(picked).to_have_text(f"เลือกไว้ 2 ประเด็น: {ids[2]}, {ids[3]}")

    # A colleague groups the first two issues: every row below moves up two places.
    themes.create_theme(
        engine, actor="facilitator#c0c0", workshop_id=workshop_id, title="อื่น", issue_ids=ids[:2]
    )
    expect(page.get_by_text("ผู้ดำเนินการประชุม #c0c0")).to_be_visible()  # redrawn
    expect(picked).to_have_text(f"เลือกไว้ 2 ประเด็น: {ids[2]}, {ids[3]}")

    type_into(page, "board_new_title", THEME_2)
    page.locator(".st-key-board_create button").click()
    wait_idle(page)
    expect(alert(page, "สร้างประเด็นหลักแล้ว")).to_be_visible()
    built = {v.theme.title: v for v in themes.board(engine, workshop_id).themes}
    assert sorted(i.id for i in built[THEME_2].issues) == [ids[2], ids[3]]
    expect(picked).to_have_text("เลือกไว้ 0 ประเด็น:")
    expect(page.locator(".st-key-board_new_title input")).to_have_value("")
