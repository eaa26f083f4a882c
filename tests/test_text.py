"""User text: normalisation, validation, Markdown escaping and formula neutralising."""

from __future__ import annotations

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
        ("![](http://x/y.png)", r"\!\[\]\(http\:\/\/x\/y\.png\)".replace(r"\/", "/")),
        ("<script>", r"\<script\>"),
        (":red[x]", r"\:red\[x\]"),
        ("$x$", r"\$x\$"),
        ("ไทยล้วน", "ไทยล้วน"),
        ("a\nb", "a b"),
    ],
)
def test_escape_markdown(raw: str, escaped: str) -> None:
    assert text.escape_markdown(raw) == escaped


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
