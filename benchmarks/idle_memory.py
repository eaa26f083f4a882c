"""The app's idle memory with each sentence model: prints the server's resident size.

For each backend: a real `streamlit run app.py` on a fresh SQLite file with the demo
workshop, one group's tab opened (its first run starts the model's background load,
see app.py), then the server left alone until its resident size has not moved for
`--settle` seconds (the load and the demo's re-embedding are done).

    .venv/bin/python benchmarks/idle_memory.py [--backends use,gemma] [--settle 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.stclient import Session  # noqa: E402
from models import db, workshops  # noqa: E402
from models.bootstrap import bootstrap  # noqa: E402

MIB = 2**20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.read() == b"ok")
    except OSError:
        return False


def measure(backend: str, *, settle: float, limit: float) -> tuple[float, float, float, float]:
    """(MiB before any tab, MiB once settled, seconds until settled, seconds of the first
    tab's first run) for one backend."""
    folder = Path(tempfile.mkdtemp(prefix="rt-memory-"))
    url = f"sqlite:///{folder / 'memory.db'}"
    env = dict(
        os.environ,
        DATABASE_URL=url,
        ORGANIZER_PASSWORD="memory-benchmark",
        FACILITATOR_PIN="482913",
        ROUNDTABLE_EMBEDDINGS=backend,
    )
    os.environ.update({k: env[k] for k in ("ORGANIZER_PASSWORD", "FACILITATOR_PIN")})
    engine = db.get_engine(url)
    bootstrap(engine)  # the demo workshop, as `make run` makes it
    workshop = workshops.list_workshops(engine)[0]
    code = workshops.list_groups(engine, workshop.id)[0].join_code  # type: ignore[arg-type]
    engine.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while not _healthy(base):
            time.sleep(0.25)
        process = psutil.Process(server.pid)
        before = process.memory_info().rss / MIB

        async def one_tab() -> None:
            session = Session(base, query=f"join={code}")
            await session.connect(timeout=limit)
            await session.close()

        started = time.monotonic()
        asyncio.run(one_tab())
        first = time.monotonic() - started
        last, steady_since = process.memory_info().rss, time.monotonic()
        while time.monotonic() - steady_since < settle and time.monotonic() - started < limit:
            time.sleep(1.0)
            now = process.memory_info().rss
            if abs(now - last) > 2 * MIB:
                last, steady_since = now, time.monotonic()
        return before, process.memory_info().rss / MIB, steady_since - started, first
    finally:
        server.terminate()
        server.wait(timeout=30)


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="use,gemma")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds without change")
    parser.add_argument("--limit", type=float, default=180.0, help="give up after (seconds)")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        before, idle, took, first = measure(backend, settle=args.settle, limit=args.limit)
        print(
            f"{backend}: server {before:.0f} MiB before the first tab, {idle:.0f} MiB idle "
            f"with the model loaded (settled {took:.0f} s after the first tab, whose first "
            f"run took {first:.1f} s); {_load()}"
        )


if __name__ == "__main__":
    main()
