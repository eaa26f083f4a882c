"""User text: normalisation, validation, Markdown escaping and formula neutralising."""

from __future__ import annotations

import re
import unicodedata

import pytest

from models import text
from models.errors import DomainError

DECOMPOSED_E = "e\u0301"  # é as e + combining acute


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  ครูไม่พอ  ", "ครูไม่พอ"),
        (f"caf{DECOMPOSED_E}", "café"),
        ("line1\r\nline2\rline3", "line1\nline2\nline3"),
        (None, ""),
        ("\u0e19\u0e49\u0e33", "น้ำ"),
    ],
)
def test_normalize(raw: str | None, expected: str) -> None:
    assert text.normalize(raw) == expected
    assert unicodedata.is_normalized("NFC", text.normalize(raw))


@pytest.mark.parametrize(
    ("raw", "kwargs", "key"),
    [
        ("", {"required": True}, "error.text.required"),
        ("   \n\t ", {"required": True}, "error.text.required"),
        ("ก" * 2001, {}, "error.text.too_long"),
        ("bad\x00nul", {}, "error.text.control"),
        ("bell\x07", {}, "error.text.control"),
        ("two\nlines", {"multiline": False}, "error.text.control"),
        ("evil\u202etxt", {}, "error.text.bidi"),
    ],
)
def test_clean_refuses(raw: str, kwargs: dict, key: str) -> None:
    with pytest.raises(DomainError) as caught:
        text.clean(raw, field="statement", **kwargs)
    assert caught.value.key == key
    assert caught.value.values["field"] == "statement"


@pytest.mark.parametrize(
    "raw",
    ["ก" * 2000, "ปัญหา\tมีแท็บ", "หลาย\nบรรทัด", "emoji 🎓 ok", "=SUM(A1)", "<script>x</script>"],
)
def test_clean_keeps(raw: str) -> None:
    assert text.clean(raw, field="statement", required=True) == raw


def test_too_long_reports_length() -> None:
    with pytest.raises(DomainError) as caught:
        text.clean("x" * 2500, field="statement")
    assert caught.value.values == {"field": "statement", "max": 2000, "length": 2500}


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("**bold**", r"\*\*bold\*\*"),
        ("![](http://x/y.png)", "\\!\\[\\]\\(http\\:\u2060//x/y\\.png\\)"),
        ("<script>", r"\<script\>"),
        (":red[x]", r"\:red\[x\]"),
        ("$x$", r"\$x\$"),
        ("ไทยล้วน", "ไทยล้วน"),
        ("a\nb", "a b"),
    ],
)
def test_escape_markdown(raw: str, escaped: str) -> None:
    assert text.escape_markdown(raw) == escaped


# GFM's literal autolinks, as Streamlit's Markdown finds them after escapes are resolved
# (mdast-util-gfm-autolink-literal): defined here, not by models.text, so the test does
# not trust what it checks.
_AUTOLINK = re.compile(r"(?i)(https?://|www(?=\.))[-.\w]+|[-.\w+]+@[-\w]+(?:\.[-\w]+)+")


def _as_markdown_shows_it(escaped: str) -> str:
    """The text Markdown holds once it resolved the backslash escapes."""
    return re.sub(r"\\(.)", r"\1", escaped)


@pytest.mark.parametrize(
    "raw",
    [
        "ดูที่ https://example.com/x?a=1",
        "HTTP://EXAMPLE.COM",
        "(www.example.org)",
        "ติดต่อ me@example.co.th",
        "http://10.0.0.1:8501/present",
        "mailto:a@b.org",
        "xmpp:room@conference.example.org",
    ],
)
@pytest.mark.parametrize("escape", [text.escape_markdown, text.escape_inline])
def test_escaped_text_holds_no_autolink(raw: str, escape) -> None:
    assert _AUTOLINK.search(raw)  # the pattern does find the raw link: not vacuous
    escaped = escape(raw)
    assert not _AUTOLINK.search(_as_markdown_shows_it(escaped))
    # Invisible joiners only: what shows is what was typed.
    assert _as_markdown_shows_it(escaped).replace(text.WORD_JOINER, "") == raw


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+66 81", "'+66 81"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("ครู = 5", "ครู = 5"),
        (42, 42),
        (None, None),
    ],
)
def test_neutralize_formula(value: object, expected: object) -> None:
    assert text.neutralize_formula(value) == expected
