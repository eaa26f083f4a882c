"""What open dashboards cost the server while nothing changes, and how fast a change shows.

Starts a real `streamlit run` on a fresh SQLite database with the demo workshop, opens
N dashboard tabs in headless Chromium (the viewer link), lets them sit, and prints the
server process's CPU use per tab; then adds one issue and prints how long each tab took
to show it. Usage: .venv/bin/python benchmarks/dashboard_idle.py [--tabs 20] [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import dashboard, db, issues, workshops  # noqa: E402
from models.access import Identity  # noqa: E402
from models.bootstrap import bootstrap  # noqa: E402
from models.issues import IssueInput  # noqa: E402
from models.schema import Role  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tabs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="rt-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = db.get_engine(url)
    bootstrap(engine)
    workshop = workshops.list_workshops(engine)[0]
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, ORGANIZER_PASSWORD="x", FACILITATOR_PIN="123456")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                if (
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health").read()
                    == b"ok"
                ):
                    break
            except OSError:
                time.sleep(0.5)
        proc = psutil.Process(server.pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            pages = []
            for _ in range(args.tabs):
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/?view={workshop.view_code}")
                pages.append(page)
            for page in pages:
                page.wait_for_selector("[data-testid='stMetricValue']", timeout=60_000)
            time.sleep(5)  # let start-up work settle
            rss = proc.memory_info().rss
            before = proc.cpu_times()
            started = time.monotonic()
            time.sleep(args.seconds)
            after = proc.cpu_times()
            elapsed = time.monotonic() - started
            cpu = (after.user + after.system) - (before.user + before.system)
            every = dashboard.REFRESH_SECONDS
            print(f"tabs: {args.tabs}, idle for {elapsed:.0f} s, refresh every {every:g} s")
            print(f"server CPU while idle: {100 * cpu / elapsed:.1f}% of one core")
            print(f"server CPU per tab: {1000 * cpu / elapsed / args.tabs:.2f} ms/s")
            print(f"server CPU per refresh: {1000 * cpu / (elapsed / every * args.tabs):.2f} ms")
            print(f"server memory: {rss / 2**20:.0f} MiB")

            group = workshops.list_groups(engine, workshop.id)[5]
            domain = workshops.list_domains(engine, workshop.id)[0]
            issues.add_issue(
                engine,
                identity=Identity(Role.GROUP, workshop.id, group.id),
                data=IssueInput(domain_id=domain.id, statement="ปัญหาใหม่ระหว่างการวัด"),
            )
            changed = time.monotonic()
            delays = []
            for page in pages:
                page.wait_for_function(
                    "() => [...document.querySelectorAll(\"[data-testid='stMetricValue']\")]"
                    ".some(e => e.textContent.trim() === '17')",
                    timeout=30_000,
                )
                delays.append(time.monotonic() - changed)
            print(f"change visible in every tab after: max {max(delays):.1f} s")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
