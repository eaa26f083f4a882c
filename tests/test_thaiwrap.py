"""The PDF's Thai line breaker on any text: it ends, keeps every character, fits the width."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.report import thaiwrap

pytestmark = pytest.mark.sqlite_only("pure text functions: no database")

# Thai letters, vowels and tone marks, Latin, digits, the punctuation the breaker glues,
# spaces and newlines, combining accents, ZWJ and emoji: the mix a group's text can hold.
THAI = "".join(chr(c) for c in range(0x0E01, 0x0E5C) if unicodedata.category(chr(c)) != "Cn")
ALPHABET = THAI + "abcXYZ019 .:)(]}[«»“”,;!?%-ๆฯ/\n\t\u0301\u200d\u200b\ufe0f😀👍🏽"
texts = st.one_of(st.text(alphabet=ALPHABET, max_size=120), st.text(max_size=60))


def _visible(text: str) -> list[str]:
    return [c for c in text if not c.isspace()]


def _display(text: str) -> float:
    """A measure closer to a font's: marks take no room, emoji two."""
    return sum(
        0 if unicodedata.category(c) in ("Mn", "Me") else 2 if ord(c) > 0xFFFF else 1 for c in text
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, width=st.integers(min_value=1, max_value=30), font=st.booleans())
def test_wrap_keeps_every_character_and_fits(text: str, width: int, font: bool) -> None:
    measure = _display if font else len
    lines = thaiwrap.wrap(text, width, measure)
    assert _visible("".join(lines)) == _visible(text)
    assert len(lines) >= text.count("\n") + 1
    for line in lines:
        assert measure(line) <= width or len(thaiwrap.clusters(line)) == 1, (line, width)


@settings(max_examples=100, deadline=None)
@given(text=texts, width=st.integers(min_value=1, max_value=30), data=st.data())
def test_wrap_keeps_units_and_still_ends(text: str, width: int, data: st.DataObject) -> None:
    """Kept units (a group's name) hidden anywhere in the text change nothing of the above."""
    unit = data.draw(st.text(alphabet=ALPHABET, min_size=1, max_size=20))
    text = f"{text} ({unit}) {text}"
    lines = thaiwrap.wrap(text, width, len, keep=[f"({unit})"])
    assert _visible("".join(lines)) == _visible(text)
    assert all(len(line) <= width or len(thaiwrap.clusters(line)) == 1 for line in lines)


@pytest.mark.parametrize(
    "text",
    [
        "ดูรายละเอียดที่ https://example.org/" + "a" * 120 + " .",  # issue #12
        "ดูรายละเอียดที่ https://example.org/" + "a" * 120 + " :",
        "ดูรายละเอียดที่ https://example.org/" + "a" * 120 + " )",
        "หัวข้อ :red[R]" * 10,
        "ครู :red[R] " + "ข" * 80 + " :blue[B]",
    ],
)
def test_punctuation_after_a_space_does_not_recurse(text: str) -> None:
    lines = thaiwrap.wrap(text, 40, len)
    assert _visible("".join(lines)) == _visible(text)
    assert all(len(line) <= 40 for line in lines)


def test_clusters_keep_marks_and_emoji_together() -> None:
    assert thaiwrap.clusters("กี่คำ") == ["กี่", "คำ"]
    assert thaiwrap.clusters("e\u0301a") == ["e\u0301", "a"]
    assert thaiwrap.clusters("👍🏽x") == ["👍🏽", "x"]
