"""English counts agree with their nouns ("1 recommendation", "2 recommendations")."""

from __future__ import annotations

import re
import string

import pytest

from models import i18n

pytestmark = pytest.mark.sqlite_only("catalogue text only: no database")
NOUNS = "issue|group|domain|theme|vote|row|recommendation|character|second|mark"


def _placeholders(template: str) -> list[str]:
    return [f[1].split(":")[0] for f in string.Formatter().parse(template) if f[1]]


@pytest.mark.parametrize("key", [k for k, v in i18n.catalogue("en").items() if "{" in str(v)])
def test_every_english_count_agrees(key: str) -> None:
    names = _placeholders(str(i18n.catalogue("en")[key]))
    one = i18n.t("en", key, **dict.fromkeys(names, 1))
    two = i18n.t("en", key, **dict.fromkeys(names, 2))
    assert not re.search(rf"\b1 ({NOUNS})s\b", one), one
    assert not re.search(rf"\b2 ({NOUNS})\b(?!s)", two), two


@pytest.mark.parametrize(
    ("key", "values", "expected"),
    [
        ("recommend.count", {"count": 1}, "1 recommendation"),
        ("recommend.count", {"count": 0}, "0 recommendations"),
        ("report.group_heading", {"group": "G", "count": 1}, "G (1 issue)"),
        ("board.count", {"shown": 1, "total": "1"}, "Showing 1 of 1 issue"),  # text values too
    ],
)
def test_plural_forms(key: str, values: dict[str, object], expected: str) -> None:
    assert i18n.t("en", key, **values) == expected


def test_thai_has_no_plural_forms() -> None:
    for key, template in i18n.catalogue("th").items():
        assert "|" not in "".join(f[2] or "" for f in string.Formatter().parse(str(template))), key
