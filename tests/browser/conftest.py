"""Browser end-to-end fixtures: a real `streamlit run` server driven by headless Chromium.

Each pytest-xdist worker starts its own server on a free port with its own SQLite file,
so the suite runs in parallel. The test process creates that database (and the demo
workshop) first, through the same `models/` functions the app uses, so tests know the
groups' join codes and can check what a click stored.

`wait_idle` and the helpers built on it wait for the app by what the page shows and
sends, not by fixed sleeps (test_group_flow.py still has its own older copies).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright
from sqlalchemy.engine import Engine

from models import db, workshops
from models.bootstrap import bootstrap
from models.schema import BreakoutGroup

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ORGANIZER_PASSWORD = "e2e-organizer-secret"
FACILITATOR_PIN = "E2E482913"
STARTUP_TIMEOUT = 60.0
# Two servers and two browsers share two cores; plotly's bundle alone can take seconds.
expect.set_options(timeout=15_000)


# Installed in every page `new_page` opens, before the app's own scripts: when the app's
# state (script running or not, connection) last changed, when the page last sent the
# server a message (a click, a committed input, a page switch: each starts a run), and
# whether the last run ended early for another (st.rerun, st.switch_page): the page shows
# "not running" between the two, for longer than the quiet time on a starved server.
# `finished` reads the one field it needs of Streamlit's ForwardMsg (protobuf):
# script_finished, field 6, a varint; FINISHED_EARLY_FOR_RERUN is 2.
TRACK_RUNS = """(() => {
  if (window.__runs) return;
  const runs = {
    state: "", changedAt: performance.now(), sentAt: 0, settledAt: 0, rerunDue: false,
  };
  window.__runs = runs;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    runs.sentAt = performance.now();
    return send.call(this, data);
  };
  const finished = (data) => {  // script_finished's status, or -1
    if (!(data instanceof ArrayBuffer)) return -1;
    const bytes = new Uint8Array(data);
    let at = 0;
    const varint = () => {
      let value = 0, shift = 0, byte = 0;
      do {
        byte = bytes[at++];
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
      } while (byte & 0x80 && at < bytes.length);
      return value;
    };
    while (at < bytes.length) {
      const tag = varint(), field = Math.floor(tag / 8), wire = tag % 8;
      if (wire === 0) {
        const value = varint();
        if (field === 6) return value;
      } else if (wire === 2) {
        const length = varint(); // not `at += varint()`: that reads `at` before the call
        at += length;
      } else if (wire === 1) at += 8;
      else if (wire === 5) at += 4;
      else return -1;
    }
    return -1;
  };
  window.WebSocket = class extends WebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const status = finished(event.data);
        if (status === -1) return;
        runs.rerunDue = status === 2;  // the next run's end clears it
        runs.changedAt = performance.now();
      });
    }
  };
  const note = () => {
    const app = document.querySelector("[data-testid='stApp']");
    const state = app ? `${app.dataset.testScriptState} ${app.dataset.testConnectionState}` : "";
    if (state !== runs.state) {
      runs.state = state;
      runs.changedAt = performance.now();
    }
  };
  new MutationObserver(note).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["data-test-script-state", "data-test-connection-state"],
  });
})();"""
# Settled: connected, no script running, nothing changed for `quiet` ms, no run due after
# one that ended early for it (st.rerun(), st.switch_page(): the next starts within ~50-80
# ms on a quiet machine, but a starved server sat idle between them for longer than the
# quiet time, and a fresh server's first viewer found no dashboard), the app's style in
# effect (on a loaded machine a fresh page sat idle and unstyled for ~300 ms after its
# first runs, which failed a focus check in CI), and whatever the page sent since the last
# settle has been answered by a change of state. A missing style, like a message that
# starts no run (none seen so far), is given up on after `patience` ms: for the test's
# own checks to find, not to hang on.
SETTLED = """([quiet, patience]) => {
  const runs = window.__runs;
  if (!runs) return false;
  const now = performance.now();
  runs.waitingSince ??= now;
  if (runs.state !== "notRunning CONNECTED" || now - runs.changedAt < quiet) return false;
  if (runs.rerunDue && now - runs.waitingSince < patience) return false; // the next run is due
  const styled = getComputedStyle(document.documentElement).getPropertyValue("--roundtable-style");
  if (!styled && now - runs.waitingSince < patience) return false; // app.css not drawn yet
  const unanswered = runs.sentAt > runs.settledAt && runs.changedAt < runs.sentAt;
  if (unanswered && now - runs.waitingSince < patience) return false;
  runs.settledAt = now;
  runs.waitingSince = undefined;
  return true;
}"""
IDLE_QUIET_MS = 250
UNANSWERED_PATIENCE_MS = 5_000


def wait_idle(page: Page, *, timeout: float = 30_000) -> None:
    """Wait until the app has answered what the page last did, and stays idle."""
    page.wait_for_function(
        SETTLED, arg=[IDLE_QUIET_MS, UNANSWERED_PATIENCE_MS], polling=50, timeout=timeout
    )


# A server's first visitor waits for its imports (pandas, plotly, the models) and first
# builds: seconds on a quiet machine, over 30 s in a full suite on a loaded 2-core machine.
COLD_START_MS = 90_000


def open_app(page: Page, url: str) -> None:
    page.goto(url)
    wait_idle(page)
    _no_exception(page, url)


def open_cold(page: Page, url: str, ready: Locator) -> None:
    """Open `url` as a fresh server's first visitor, and wait until `ready` shows.

    `ready` first, not idleness alone: the first run hands over to the role's page
    (st.switch_page), and a starved server can sit idle between the two runs for longer
    than wait_idle's quiet time, which then returns before the page is drawn.
    """
    page.goto(url)
    expect(ready).to_be_visible(timeout=COLD_START_MS)
    wait_idle(page, timeout=COLD_START_MS)
    _no_exception(page, url)


def _no_exception(page: Page, url: str) -> None:
    shown = page.locator("[data-testid='stException']")
    try:
        expect(shown).to_have_count(0)
    except AssertionError:  # say what the page raised, not only that it raised
        pytest.fail(f"the page shows an exception at {url}:\n{shown.first.inner_text()}")


def sign_in(page: Page, server: Server, role: str) -> None:
    """Sign in on the home page as `role` ("facilitator" or "organizer"), as staff do."""
    label, secret = {
        "facilitator": ("ผู้ดำเนินการประชุม", server.facilitator_pin),
        "organizer": ("ผู้จัดการประชุม", server.organizer_password),
    }[role]
    open_app(page, server.url)
    page.get_by_role("tab", name="ผู้ดำเนินการ / ผู้จัด").click()
    page.locator(".st-key-staff_role").get_by_text(label).click()
    page.locator(".st-key-staff_secret input").fill(secret)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    wait_idle(page)
    expect(page.locator(".st-key-logout")).to_be_visible()  # signed in
    assert "s=" not in page.url  # the token lives in a cookie, never in the address bar


def staff_cookie(page: Page) -> str | None:
    """The staff token this browser keeps (models.access.STAFF_COOKIE), if any."""
    from models.access import STAFF_COOKIE

    found = [c["value"] for c in page.context.cookies() if c["name"] == STAFF_COOKIE]
    return found[0] if found else None


def as_staff(page: Page, url: str, token: str) -> None:
    """Give this browser a staff token, as a signed-in browser keeps it, then open `url`."""
    from urllib.parse import urlsplit

    from models.access import STAFF_COOKIE

    host = urlsplit(url).hostname or "127.0.0.1"
    cookie = {"name": STAFF_COOKIE, "value": token, "domain": host, "path": "/"}
    page.context.add_cookies([cookie])  # type: ignore[list-item]
    open_app(page, url)


def submit_issue(page: Page, statement: str, cause: str = "") -> None:
    page.locator(".st-key-new_statement textarea").fill(statement)
    if cause:
        page.locator(".st-key-new_cause textarea").fill(cause)
    page.get_by_role("button", name="บันทึกประเด็นปัญหา").click()
    wait_idle(page)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


@dataclass(frozen=True)
class Server:
    url: str
    engine: Engine
    workshop_id: int
    join_codes: dict[str, str]  # group name -> join code
    log: Path
    facilitator_pin: str = FACILITATOR_PIN
    organizer_password: str = ORGANIZER_PASSWORD

    def group(self, name: str) -> BreakoutGroup:
        found = workshops.list_groups(self.engine, self.workshop_id)
        return next(g for g in found if g.name == name)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextmanager
def _running_server(folder: Path) -> Iterator[Server]:
    """Create and seed `folder`/e2e.db, start `streamlit run app.py` on it, stop it after."""
    db_url = f"sqlite:///{folder / 'e2e.db'}"
    credentials = {"ORGANIZER_PASSWORD": ORGANIZER_PASSWORD, "FACILITATOR_PIN": FACILITATOR_PIN}
    with pytest.MonkeyPatch.context() as patch:
        # Configured credentials, as the server will have: nothing gets generated.
        for name, value in credentials.items():
            patch.setenv(name, value)
        engine = db.get_engine(db_url)
        bootstrap(engine)
    workshop = workshops.list_workshops(engine)[0]
    assert workshop.id is not None
    codes = {g.name: g.join_code for g in workshops.list_groups(engine, workshop.id)}

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **credentials, "DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}
    env.pop("ROUNDTABLE_BASE_URL", None)
    log = folder / "server.log"
    command = [
        sys.executable,  # the venv's interpreter, the one running pytest
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {STARTUP_TIMEOUT:.0f} s:\n{_tail(log)}")
            time.sleep(0.25)
        yield Server(url=url, engine=engine, workshop_id=workshop.id, join_codes=codes, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        engine.dispose()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real Roundtable server for this worker, on its own port and database file."""
    with _running_server(tmp_path_factory.mktemp("e2e")) as running:
        yield running


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    """A server no browser has talked to yet (for what only a process's first run shows)."""
    with _running_server(tmp_path) as running:
        yield running


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run scripts/ensure-test-tools (or `make test`)")
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Keep each phase's report on the item, so `page` knows whether the test failed;
    add the server's log to a failure (the browser shows only "an error")."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    if report.failed:
        for name in ("server", "fresh_server"):
            running = getattr(item, "funcargs", {}).get(name)
            if running is not None:
                report.sections.append((f"{name} log ({running.log})", _tail(running.log)))
    return report


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Page]]:
    """More people at the venue: each call opens a fresh browser context (own session).

    Each one leaves a screenshot in test-artifacts/ if the test fails.
    """
    opened: dict[str, Page] = {}

    def open_context(name: str) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
        context.set_default_timeout(20_000)
        context.add_init_script(TRACK_RUNS)
        opened[name] = context.new_page()
        return opened[name]

    yield open_context
    report = getattr(request.node, "report_call", None)
    for name, page in opened.items():
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            suffix = "" if name == "main" else f"-{name}"
            stem = re.sub(r"[^\w.-]+", "_", f"{request.node.nodeid}{suffix}")
            try:
                page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
            except Exception as error:  # the page may be the thing that broke
                print(f"no screenshot of {name}: {error}")
        page.context.close()


@pytest.fixture
def page(new_page: Callable[[str], Page]) -> Page:
    """A fresh browser context (no cookies, no session) per test."""
    return new_page("main")
