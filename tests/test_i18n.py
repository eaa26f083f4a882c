"""The catalogues: complete in both languages, Buddhist-era dates in Thai."""

from __future__ import annotations

import datetime as dt
import re
import string
from pathlib import Path

import pytest

from models import i18n
from models.errors import DomainError

ROOT = Path(__file__).resolve().parent.parent


def test_catalogues_have_the_same_keys() -> None:
    assert set(i18n.catalogue("th")) == set(i18n.catalogue("en"))


def test_placeholders_match_between_languages() -> None:
    def fields(value: object) -> set[str]:
        if not isinstance(value, str):
            return set()
        return {name for _, name, _, _ in string.Formatter().parse(value) if name}

    th, en = i18n.catalogue("th"), i18n.catalogue("en")
    mismatched = [key for key in th if fields(th[key]) != fields(en[key])]
    assert mismatched == []


def test_every_key_used_in_code_exists() -> None:
    """Literal keys passed to tr()/t()/DomainError in pages, app and models are defined."""
    pattern = re.compile(
        r"""(?:tr|t|DomainError|Forbidden)\(\s*(?:lang,\s*|_ui\.lang\(\),\s*)?["']([a-z_]+(?:\.[a-z_]+)+)["']"""
    )
    used: set[str] = set()
    for path in [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("models/*.py")]:
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert used, "the pattern found no keys at all"
    missing = sorted(key for key in used if key not in i18n.catalogue("th"))
    assert missing == []


@pytest.mark.parametrize(
    ("start", "end", "lang", "expected"),
    [
        (dt.date(2018, 3, 14), dt.date(2018, 3, 16), "th", "14–16 มีนาคม 2561"),
        (dt.date(2018, 3, 14), dt.date(2018, 3, 16), "en", "14–16 March 2018"),
        (dt.date(2018, 3, 14), dt.date(2018, 3, 14), "th", "14 มีนาคม 2561"),
        (dt.date(2018, 3, 30), dt.date(2018, 4, 2), "th", "30 มีนาคม – 2 เมษายน 2561"),
        (dt.date(2018, 12, 31), dt.date(2019, 1, 2), "th", "31 ธันวาคม 2561 – 2 มกราคม 2562"),
    ],
)
def test_date_range(start: dt.date, end: dt.date, lang: str, expected: str) -> None:
    assert i18n.format_date_range(start, end, lang) == expected


def test_error_message_translates_field_and_phase() -> None:
    error = DomainError("error.text.required", field="statement")
    assert i18n.error_message("th", error) == "กรุณากรอก “ประเด็นปัญหา”"
    assert i18n.error_message("en", error) == "Please fill in “Problem”."
    phase_error = DomainError("error.phase.enter_issue", phase="vote")
    assert "ลงคะแนน" in i18n.error_message("th", phase_error)


def test_unknown_language_falls_back_to_thai() -> None:
    assert i18n.t("xx", "nav.home") == i18n.t("th", "nav.home")
