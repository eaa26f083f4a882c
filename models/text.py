"""User text is data: normalise it, validate it, and make it safe to show or export."""

from __future__ import annotations

import re
import unicodedata

from models.errors import DomainError

# C0/C1 controls except tab and newline; DEL. Carriage returns are folded into newlines.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that can reorder or hide text on screen (bidi overrides and isolates).
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=&])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def normalize(value: str | None) -> str:
    """NFC form, Windows newlines folded, surrounding whitespace trimmed."""
    if value is None:
        return ""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value.strip()


def clean(
    value: str | None,
    *,
    field: str,
    required: bool = False,
    max_length: int = 2000,
    multiline: bool = True,
) -> str:
    """Normalise `value` and refuse what no user means to store.

    Raises DomainError with keys `error.text.required`, `error.text.too_long`,
    `error.text.control` or `error.text.bidi`, each carrying the field name.
    """
    text = normalize(value)
    if required and not text:
        raise DomainError("error.text.required", field=field)
    if len(text) > max_length:
        raise DomainError("error.text.too_long", field=field, max=max_length, length=len(text))
    if _CONTROL.search(text) or (not multiline and "\n" in text):
        raise DomainError("error.text.control", field=field)
    if _BIDI.search(text):
        raise DomainError("error.text.bidi", field=field)
    return text


def escape_markdown(text: str) -> str:
    """Backslash-escape what Streamlit's Markdown would interpret, for labels and titles.

    Body text is shown with `st.text`; this is for the few places that only take Markdown.
    """
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def neutralize_formula(value: object) -> object:
    """Prefix a quote to text a spreadsheet would run as a formula (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
