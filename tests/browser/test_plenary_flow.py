"""End to end, the plenary side: the room's live dashboard and the organizer's take-home file.

A viewer watches the dashboard on the projector (opened by the view link) while a group
submits an issue from its own laptop: the dashboard follows within seconds, without a
reload. The organizer signs in, downloads the results workbook and it holds what the
database holds.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect

from models import issues, workshops
from tests.browser.conftest import open_app, open_cold, sign_in, wait_idle

pytestmark = pytest.mark.browser

NEW_GROUP = "เขตตรวจราชการที่ 6"  # has no demo issue: submitting makes it an active group
ISSUES_LABEL = "ประเด็นทั้งหมด"
GROUPS_LABEL = "กลุ่มที่ส่งแล้ว"
DEMO_STATEMENT = "งบประมาณจัดสรรลงมาล่าช้า ทำให้ดำเนินโครงการไม่ทันปีงบประมาณ"
SHEETS = ["Issues", "Themes", "Votes", "Scores", "Recommendations", "Summary"]
ISSUE_HEADERS = [
    "เลขที่",
    "กลุ่ม",
    "ด้าน",
    "ประเด็นปัญหา",
    "สาเหตุ",
    "ผลกระทบ",
    "ผู้ได้รับผลกระทบ",
    "แนวทางแก้ไขที่เสนอ",
    "ประเด็นหลัก",
    "ซ้ำกับประเด็นเลขที่",
    "เหตุผลที่ซ่อน",
    "เวลาที่บันทึก",
]
# Date.now() once the dashboard's metric `label` reads `value` (polled in the browser).
METRIC_READS = """([label, value]) => {
  for (const metric of document.querySelectorAll("[data-testid='stMetric']")) {
    const name = metric.querySelector("[data-testid='stMetricLabel']");
    const shown = metric.querySelector("[data-testid='stMetricValue']");
    if (name && shown && name.textContent.trim() === label) {
      return shown.textContent.trim() === value ? Date.now() : false;
    }
  }
  return false;
}"""
# Record in the page when a form's submit button is pressed (the same clock as above).
RECORD_SUBMIT = """() => {
  window.__submittedAt = null;
  document.addEventListener("click", (event) => {
    const submit = event.target.closest("[data-testid='stFormSubmitButton']");
    if (submit && window.__submittedAt === null) window.__submittedAt = Date.now();
  }, true);
}"""


@pytest.fixture
def group_page(new_page: Callable[[str], Page]) -> Page:
    """A group's own laptop: a second browser context."""
    return new_page("group")


def metric(page: Page, label: str) -> Locator:
    """The value of the dashboard's st.metric labelled `label`."""
    box = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=label)
    )
    return box.locator("[data-testid='stMetricValue']")


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def live_issue_count(server: Any) -> int:
    return len(issues.workshop_issues(server.engine, server.workshop_id))


def test_dashboard_follows_a_new_issue_without_reload(
    page: Page, group_page: Page, fresh_server: Any
) -> None:
    # Its own server: the count must start at the demo's 16 and only this test adds one.
    server = fresh_server
    assert live_issue_count(server) == 16
    workshop = workshops.get_workshop(server.engine, workshop_id=server.workshop_id)

    # 1. The projector opens the dashboard by the view link (the server's first visitor).
    open_cold(page, f"{server.url}/?view={workshop.view_code}", metric(page, ISSUES_LABEL))
    expect(page.locator("[data-testid='stSidebar']").get_by_text("ผู้ชม", exact=True)).to_be_visible()
    expect(metric(page, ISSUES_LABEL)).to_have_text("16")
    expect(metric(page, GROUPS_LABEL)).to_have_text("16 / 20")
    page.evaluate("window.__marker = 1")

    # 2. A group, on its own laptop, opens its join link and submits an issue.
    open_app(group_page, f"{server.url}/?join={server.join_codes[NEW_GROUP]}")
    expect(group_page.locator("h1", has_text=NEW_GROUP)).to_be_visible()
    statement = f"ห้องเรียนไม่พอต่อจำนวนนักเรียน แดชบอร์ด-{uuid.uuid4().hex[:8]}"
    group_page.locator(".st-key-new_statement textarea").fill(statement)
    group_page.evaluate(RECORD_SUBMIT)
    group_page.get_by_role("button", name="บันทึกประเด็นปัญหา").click()

    # 3. The dashboard shows it by itself. The delay is printed, not asserted: on a loaded
    # 2-core machine it reached 5.06 s in a full suite run (2-3 s quiet; the follow polls
    # every 2 s). Both times are the browser's Date.now() (one machine, one clock).
    try:
        shown = page.wait_for_function(
            METRIC_READS, arg=[ISSUES_LABEL, "17"], polling=50, timeout=15_000
        ).json_value()
    except Exception as error:
        now = metric(page, ISSUES_LABEL).all_inner_texts()
        pytest.fail(f"dashboard still shows {now} 15 s after the submit: {error}")
    submitted = group_page.evaluate("window.__submittedAt")
    assert submitted, "the submit click was not recorded"
    delay = (shown - submitted) / 1000
    stored = issues.group_issues(server.engine, server.group(NEW_GROUP).id)  # type: ignore[arg-type]
    saved = _utc(stored[0].created_at).timestamp() - submitted / 1000 if stored else float("nan")
    print(
        f"dashboard delay: {delay:.2f} s from the group's submit to 17 on the dashboard"
        f" (the server stored the issue {saved:.2f} s after the submit)"
    )

    expect(metric(page, ISSUES_LABEL)).to_have_text("17")
    expect(metric(page, GROUPS_LABEL)).to_have_text("17 / 20")
    assert page.evaluate("window.__marker") == 1, "the dashboard page was reloaded"
    expect(page.locator("[data-testid='stException']")).to_have_count(0)

    # The group saw its issue saved, and the database holds it once.
    wait_idle(group_page)
    expect(group_page.locator("[data-testid='stText']", has_text=statement)).to_have_count(1)
    assert [i.statement for i in stored] == [statement]
    assert live_issue_count(server) == 17


def test_organizer_downloads_results_workbook(page: Page, server: Any, tmp_path: Path) -> None:
    # 1. The organizer signs in on the home page and opens the data page.
    sign_in(page, server, "organizer")
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.get_by_role("link", name="นำเข้า/ส่งออกข้อมูล", exact=True).click()
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"/organizer_data"))
    expect(page.locator("h1", has_text="นำเข้าและส่งออกข้อมูล")).to_be_visible()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)

    # 2. The Excel button: the file is built on the click and downloaded.
    button = page.locator(".st-key-export_xlsx button")
    expect(button).to_contain_text("ตารางผลการประชุม (Excel)")
    with page.expect_download(timeout=30_000) as download_info:
        button.click()
    download = download_info.value
    assert download.failure() is None
    slug = workshops.get_workshop(server.engine, workshop_id=server.workshop_id).slug
    assert download.suggested_filename == f"{slug}.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    # 3. The workbook holds what the database holds.
    live = issues.workshop_issues(server.engine, server.workshop_id)
    book = load_workbook(saved, read_only=True)
    assert book.sheetnames == SHEETS
    rows = list(book["Issues"].iter_rows(values_only=True))
    assert list(rows[0]) == ISSUE_HEADERS
    body = rows[1:]
    statements = [row[3] for row in body]
    assert DEMO_STATEMENT in statements
    assert sorted(row[0] for row in body) == sorted(i.id or 0 for i in live)

    summary = list(book["Summary"].iter_rows(values_only=True))
    header, groups, total = summary[0], summary[1:-1], summary[-1]
    assert header[0] == "กลุ่ม" and header[-1] == "รวม"
    assert list(header[1:-1]) == [
        d.name for d in workshops.list_domains(server.engine, server.workshop_id)
    ]
    assert len(groups) == 20 and total[0] == "รวม"
    for row in groups:
        assert row[-1] == sum(row[1:-1]), row
    for column in range(1, len(header)):
        assert total[column] == sum(row[column] for row in groups), header[column]
    assert sum(row[-1] for row in groups) == total[-1] == len(live)
    book.close()
