"""models.shutdown: the heap is frozen when the process exits; other exit handlers still run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Registered before exit_quickly, so it runs after it (atexit is last-in, first-out): it
# sees what the interpreter's final collections will see.
PROBE = """
import atexit, gc
atexit.register(lambda: print("frozen" if gc.get_freeze_count() else "not frozen", flush=True))
from models import shutdown
atexit.register(lambda: print("others ran", flush=True))
if QUICK:
    shutdown.exit_quickly()
    shutdown.exit_quickly()  # once per process
"""


def _exit_output(quick: bool) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"QUICK = {quick}\n{PROBE}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


def test_the_heap_is_frozen_at_exit_and_other_handlers_still_run() -> None:
    assert _exit_output(quick=True) == ["others ran", "frozen"]


def test_without_it_the_final_collections_walk_everything() -> None:
    assert _exit_output(quick=False) == ["others ran", "not frozen"]
