"""The README documents every command-line command and every setting the code reads."""

from __future__ import annotations

import re
from pathlib import Path

from models.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_cli_command_is_in_the_readme() -> None:
    missing = [name for name in main.commands if f"roundtable {name}" not in README]
    assert missing == []


def test_every_setting_is_in_the_readme() -> None:
    pattern = re.compile(
        r"""(?:environ\.get|environ\[|getenv|configured_secret)\(\s*["']([A-Z_]+)["']"""
    )
    names: set[str] = set()
    for path in [*ROOT.glob("models/*.py"), ROOT / "app.py", *ROOT.glob("pages/*.py")]:
        names |= set(pattern.findall(path.read_text(encoding="utf-8")))
    names |= {"ORGANIZER_PASSWORD", "FACILITATOR_PIN"}  # read through access.STAFF_CREDENTIALS
    assert "DATABASE_URL" in names, "the pattern found the settings"
    # Set by the app for its libraries (pythainlp, the charts browser), not user settings.
    names -= {"PYTHAINLP_READ_ONLY", "FONTCONFIG_FILE"}
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert missing == []
