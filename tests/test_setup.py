"""`make test` sets up what the tests drive for real, as `.ci/run` relies on (issue #11)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "ensure-test-tools"


def _missing(**env: str) -> str:
    """What the set-up script would install with this environment (it installs nothing)."""
    base = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "NGINX")}
    done = subprocess.run(
        [str(SCRIPT)],
        env=base | {"ENSURE_DRY_RUN": "1", "CHROMIUM": "/bin/sh"} | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_make_test_runs_the_set_up_before_the_suite() -> None:
    plan = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert plan.index("scripts/ensure-test-tools") < plan.index("pytest")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ""),  # Chromium present, no PostgreSQL tests: nothing to install
        ({"NPM": "/nonexistent/npm"}, ""),  # axe-core installed already: npm not needed
        ({"CHROMIUM": "/nonexistent/chromium"}, "missing: chromium"),
        ({"NGINX": "/nonexistent/nginx"}, ""),  # the replica test runs only on PostgreSQL
        (
            {"TEST_DATABASE_URL": "postgresql+psycopg://x/test", "NGINX": "/nonexistent/nginx"},
            "missing: nginx",
        ),
        (
            {
                "TEST_DATABASE_URL": "postgresql+psycopg://x/test",
                "NGINX": "/nonexistent/nginx",
                "CHROMIUM": "/nonexistent/chromium",
            },
            "missing: chromium nginx",
        ),
    ],
)
def test_the_set_up_installs_what_the_enabled_tests_need(
    env: dict[str, str], expected: str
) -> None:
    assert _missing(**env) == expected
