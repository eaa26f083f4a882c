"""Start Roundtable as several replicas on one database with nginx in front (`make replicas`).

Sets up the database once (schema, credentials, demo), prints the credentials and links
as `roundtable serve` does, starts N `streamlit run app.py` replicas on 127.0.0.1 and an
nginx with session affinity on the public port, then waits; Ctrl-C or SIGTERM stops all
of them, and so does any one of them dying. nginx's config, pid, logs and temp files and
the replicas' logs live in the run folder (deploy/run/ by default, git-ignored).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: models/ is beside deploy/

from models import links  # noqa: E402  (light; the heavy models are imported in set_up)

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
DEFAULT_DATABASE_URL = "postgresql+psycopg://root@127.0.0.1:5432/roundtable"
STARTUP_TIMEOUT = 90.0


def ensure_database(url: str) -> None:
    """Create a PostgreSQL database that does not exist yet (the default one on first use)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    engine = create_engine(url)
    try:
        with engine.connect():
            return
    except OperationalError as error:
        if "does not exist" not in str(error):
            raise
    finally:
        engine.dispose()
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    print(f"created database {parsed.database}", flush=True)


def set_up(url: str, base: str) -> None:
    """Migrate, create what a first run creates, and print credentials and links once.

    Imported here, not at the top: the models take seconds to import, and the replicas
    start meanwhile (they touch the database only when a first visitor arrives).
    """
    from models import db
    from models.bootstrap import bootstrap
    from models.cli import startup_report
    from models.i18n import DEFAULT_LANG

    engine = db.get_engine(url)
    for line in startup_report(engine, base=base, lang=DEFAULT_LANG, generated=bootstrap(engine)):
        print(line, flush=True)
    engine.dispose()


def render_config(run_dir: Path, listen: str, ports: list[int]) -> Path:
    """nginx.conf for `ports`, with every path nginx writes inside `run_dir`."""
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run_dir / "temp" / sub).mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"        server 127.0.0.1:{port};" for port in ports)
    config = (
        TEMPLATE.read_text(encoding="utf-8")
        .replace("@RUN@", str(run_dir))
        .replace("@LISTEN@", listen)
        .replace("@SERVERS@", servers)
    )
    path = run_dir / "nginx.conf"
    path.write_text(config, encoding="utf-8")
    return path


def find_nginx() -> str:
    found = os.environ.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        sys.exit("nginx not found: install Debian's nginx package (or set NGINX=/path/to/nginx)")
    return found


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.read().decode().strip() == "ok")
    except OSError:
        return False


class Pair:
    """The running processes: replicas first, nginx last; stopped in reverse order."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._logs: list[IO[bytes]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self.run_dir / f"{name}.log").open("wb")
        self._logs.append(log)
        # A session of its own: Ctrl-C reaches this script only, which stops nginx first.
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append((name, process))

    def wait_healthy(self, name: str, url: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not healthy(url):
            if dead := self.dead():
                raise RuntimeError(f"{dead} exited during start-up; see {self.run_dir}/{dead}.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not healthy after {STARTUP_TIMEOUT:.0f} s")
            time.sleep(0.25)

    def dead(self) -> str | None:
        return next((name for name, p in self.processes if p.poll() is not None), None)

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for _name, process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self._logs:
            log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8501")))
    parser.add_argument("--host", default="0.0.0.0", help="address nginx listens on")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument(
        "--replica-port",
        type=int,
        default=None,
        help="first replica's port on 127.0.0.1 (default: PORT+1; the next ones follow)",
    )
    parser.add_argument("--run-dir", type=Path, default=ROOT / "deploy" / "run")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    run_dir = args.run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    nginx = find_nginx()
    first = args.replica_port or args.port + 1
    ports = [first + i for i in range(args.replicas)]

    ensure_database(url)
    base = links.base_url(port=args.port)

    # Links the replicas print and show must point at nginx, not at themselves.
    env = {**os.environ, "DATABASE_URL": url, "ROUNDTABLE_BASE_URL": base, "PORT": str(args.port)}
    env["PYTHONUNBUFFERED"] = "1"
    # nginx (on this host) names each laptop in X-Forwarded-For; believe it from nginx only.
    env["ROUNDTABLE_TRUSTED_PROXIES"] = "127.0.0.1, ::1"
    stopping: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    pair = Pair(run_dir)
    try:
        for index, port in enumerate(ports):
            command = [sys.executable, "-m", "streamlit", "run", "app.py"]
            command += ["--server.address", "127.0.0.1", "--server.port", str(port)]
            command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
            command += ["--server.fileWatcherType", "none"]
            pair.start(f"replica-{index + 1}", command, env)
        set_up(url, base)
        for index, port in enumerate(ports):
            pair.wait_healthy(f"replica-{index + 1}", f"http://127.0.0.1:{port}")
        config = render_config(run_dir, f"{args.host}:{args.port}", ports)
        pair.start("nginx", [nginx, "-p", str(run_dir), "-e", "stderr", "-c", str(config)], env)
        pair.wait_healthy("nginx", f"http://127.0.0.1:{args.port}")
        replicas = ", ".join(f"127.0.0.1:{port}" for port in ports)
        print(f"\nready: {base}/ -> nginx -> {replicas} (logs in {run_dir})", flush=True)
        while not stopping:
            if dead := pair.dead():
                print(f"{dead} exited; stopping (see {run_dir}/{dead}.log)", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        pair.stop()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is stopped and flushed: skip the seconds the interpreter spends tearing
    # down pandas and plotly (imported for the set-up), which only delay Ctrl-C.
    os._exit(code)
