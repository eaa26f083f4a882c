"""Screenshots of every role's pages at projector, laptop and phone width, to look at.

    .venv/bin/python scripts/screenshots.py [--out test-artifacts/screens] [--issues 300]

Starts a real server (as the browser tests do) on a fresh SQLite file holding a seeded
workshop in the vote phase (themes, votes, scores, recommendations: every chart has data),
signs in each role through the home page as a person would, and saves one full-page PNG
per role, page and width. Nothing is checked: the point is to look at them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from benchmarks.seed import seed_workshop  # noqa: E402
from models import access, workshops  # noqa: E402
from models.schema import Phase, Role  # noqa: E402
from tests.browser import conftest  # noqa: E402

WIDTHS = {"1920": (1920, 1080), "1366": (1366, 768), "390": (390, 844)}
MAX_HEIGHT = 6000
TALL = "() => document.querySelector('[data-testid=stMain]')?.scrollHeight ?? 0"
STAFF = {
    Role.FACILITATOR: ("ผู้ดำเนินการประชุม", conftest.FACILITATOR_PIN),
    Role.ORGANIZER: ("ผู้จัดการประชุม", conftest.ORGANIZER_PASSWORD),
}


def _pages(role: Role) -> list[str]:
    return [name for name in access.PAGE_ROLES if access.may_open(role, name)]


def _staff_sign_in(page: Page, url: str, role: Role) -> None:
    label, secret = STAFF[role]
    conftest.open_app(page, url)
    page.get_by_role("tab", name="ผู้ดำเนินการ / ผู้จัด").click()
    page.locator(".st-key-staff_role").get_by_text(label).click()
    page.locator(".st-key-staff_secret input").fill(secret)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    conftest.wait_idle(page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "screens")
    parser.add_argument("--issues", type=int, default=300)
    parser.add_argument("--phase", default=Phase.VOTE.value, choices=[p.value for p in Phase])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="roundtable-screens-"))
    os.environ.update(
        ORGANIZER_PASSWORD=conftest.ORGANIZER_PASSWORD, FACILITATOR_PIN=conftest.FACILITATOR_PIN
    )
    from models import db  # after the credentials are in the environment

    engine = db.get_engine(f"sqlite:///{folder / 'e2e.db'}")
    workshop_id = seed_workshop(engine, issues=args.issues, phase=Phase(args.phase), slug="screens")
    workshop = workshops.get_workshop(engine, workshop_id=workshop_id)
    group = workshops.list_groups(engine, workshop_id)[2]
    entry = {
        Role.GROUP: f"/?join={group.join_code}",
        Role.VIEWER: f"/?view={workshop.view_code}",
    }
    # The seeded workshop is the only one: bootstrap adds no demo beside it.
    with conftest._running_server(folder) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=conftest.CHROMIUM, args=conftest.CHROMIUM_ARGS)
        for role in (Role.GROUP, Role.VIEWER, Role.FACILITATOR, Role.ORGANIZER):
            for width, (w, h) in WIDTHS.items():
                context = browser.new_context(viewport={"width": w, "height": h}, locale="th-TH")
                context.add_init_script(conftest.TRACK_RUNS)
                page = context.new_page()
                if role in entry:
                    conftest.open_app(page, server.url + entry[role])
                else:
                    _staff_sign_in(page, server.url, role)
                # What proves the role in the URL (a group's or viewer's code) goes along.
                query = "?" + page.url.split("?", 1)[1] if "?" in page.url else ""
                for name in _pages(role):
                    page.goto(f"{server.url}/{name}{query}")
                    conftest.wait_idle(page)
                    page.wait_for_timeout(800)  # charts draw after the run ends
                    # Streamlit scrolls inside its main block, so a "full page" screenshot
                    # shows one screen: grow the window to the content's height instead.
                    tall = page.evaluate(TALL)
                    page.set_viewport_size({"width": w, "height": min(max(tall, h), MAX_HEIGHT)})
                    page.wait_for_timeout(300)
                    path = args.out / f"{role.value}-{name}-{width}.png"
                    page.screenshot(path=str(path))
                    page.set_viewport_size({"width": w, "height": h})
                    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
                context.close()
        browser.close()


if __name__ == "__main__":
    main()
