"""models.thai: one word dictionary for the whole process, compounds kept whole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from models import suggest, thai
from models.report import thaiwrap

pytestmark = pytest.mark.sqlite_only("a fresh interpreter on its own SQLite file")

ROOT = Path(__file__).resolve().parent.parent

# A fresh interpreter draws the demo's dashboard (chart words and wrapped labels), names a
# theme and reads tokens, then reports which word tries exist.
PROBE = """
import os, sys
from pythainlp.tokenize import word_dict_trie
from models import dashboard, db, suggest, thai, workshops
from models.bootstrap import bootstrap
engine = db.get_engine("sqlite:///" + sys.argv[1])
bootstrap(engine)
workshop = workshops.list_workshops(engine)[0]
dashboard.snapshot(engine, workshop.id, dashboard.version(engine, workshop.id), "th")
suggest.short_name("งบประมาณจัดสรรลงมาล่าช้า ทำให้ดำเนินโครงการไม่ทันปีงบประมาณ" * 3)
thai.tokens("ครูไม่พอ")
print(word_dict_trie.cache_info().currsize, thai._dictionary.cache_info().currsize)
"""


def test_a_dashboard_builds_one_dictionary_not_two(tmp_path: Path) -> None:
    """pythainlp's own default trie (~60 MB, ~0.4 s) is never built beside ours."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "thai.db")],
        cwd=ROOT,
        env={"ORGANIZER_PASSWORD": "thai-test-secret", "FACILITATOR_PIN": "482913", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["0", "1"]


def test_compounds_stay_whole_wherever_text_is_cut() -> None:
    text = "การเบิกจ่ายค่าสาธารณูปโภคล่าช้า"
    assert "เบิกจ่าย" in thai.tokens(text)
    assert "ค่าสาธารณูปโภค" in thaiwrap.words(text)
    assert "ค่าสาธารณูปโภค" in thai.segment(text)
    # A theme's short name is cut between words, never inside a compound.
    name = suggest.short_name("ปัญหา " * 8 + text * 2, limit=60)
    assert name.endswith("…") and "ค่าสาธารณูป…" not in name
