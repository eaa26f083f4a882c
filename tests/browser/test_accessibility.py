"""Every page every role may open, audited by axe-core in Chromium (issue #14).

axe-core comes pinned from npm (package.json; `make test` installs it through
scripts/ensure-test-tools). The audit runs the WCAG 2.0/2.1 A and AA rules at laptop and
phone width; a serious or critical violation fails the test with what axe reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from models import access, workshops
from models.schema import Role
from tests.browser.conftest import ROOT, open_app, sign_in, wait_idle

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


def _audit(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(AUDIT, TAGS)


def _audit_pages(page: Page, base: str, role: Role | None, query: str) -> dict[str, Any]:
    """Open each page `role` may open (home for a visitor) at each width; the findings."""
    names = [n for n in access.PAGE_ROLES if access.may_open(role, n)] if role else [""]
    found: dict[str, Any] = {}
    for name in names:
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        page.goto(f"{base}/{name}{query}")
        wait_idle(page)
        for width in WIDTHS:  # Streamlit's layout follows the width by CSS: no reload
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(300)  # charts and images redraw at the new width
            if violations := _audit(page):
                found[f"{name or 'home'} @ {width}px"] = violations
    return found


# The pages a visitor, a group and the room open (issue #14 found failures there). Staff
# pages pass too (checked while building this; ~75 s more): they join the suite with the
# rest of issue #14 when the suite has the time.
@pytest.mark.parametrize("role", [None, Role.GROUP, Role.VIEWER])
def test_no_serious_accessibility_violation(page: Page, server: Any, role: Role | None) -> None:
    assert Path(AXE).is_file(), "axe-core missing: run scripts/ensure-test-tools"
    workshop = workshops.list_workshops(server.engine)[0]
    if role in (Role.FACILITATOR, Role.ORGANIZER):
        sign_in(page, server, role.value)
    else:
        entry = {
            Role.GROUP: f"/?join={next(iter(server.join_codes.values()))}",
            Role.VIEWER: f"/?view={workshop.view_code}",
        }.get(role, "/")  # type: ignore[arg-type]
        open_app(page, server.url + entry)
    # What proves the role in the URL (a code; staff: whatever sign-in left) goes along.
    query = "?" + page.url.split("?", 1)[1] if "?" in page.url else ""
    assert _audit_pages(page, server.url, role, query) == {}
