"""User text is data: normalise it, validate it, and make it safe to show or export."""

from __future__ import annotations

import re
import unicodedata

from models.errors import DomainError

# C0/C1 controls except tab and newline; DEL. Carriage returns are folded into newlines.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that can reorder or hide text on screen (bidi overrides and isolates).
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Half of a UTF-16 pair: no encoder (SQLite, PostgreSQL, UTF-8 files) can store one.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# More combining marks on one letter than writing needs (Thai stacks at most a vowel and
# a tone mark; an emoji keycap has two): floods of them ("Zalgo", a tone mark typed ten
# times) spill over the lines around them on screen.
MAX_MARKS = 4
_MARKS = frozenset({"Mn", "Me"})
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=&@])")
# Markup anywhere in a line; `# + - . =` only count at a line's start.
_MD_INLINE = re.compile(r"([\\`*_{}\[\]()!|<>~:$&@])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What GFM's literal autolinks start from: a scheme's colon, "www." and an address's "@".
# Streamlit's Markdown finds them in the text *after* backslash escapes are resolved, so
# escaping cannot stop them; a WORD JOINER (U+2060, invisible, no width) splitting each
# does, and leaves the text reading as typed.
_LINK_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|xmpp):")
_LINK_WWW = re.compile(r"(?i)\b(www)\.")
WORD_JOINER = "\u2060"
# Invisible characters that str.strip() keeps: zero-width space/joiners, word joiner, BOM.
_INVISIBLE_EDGE = "\u200b\u200c\u200d\u2060\ufeff"
# Letters that render as nothing (Hangul fillers, braille blank): not content either.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_UNSEEN = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})
_PRINTABLE_LIMIT = 80


def normalize(value: str | None) -> str:
    """NFC form, Windows newlines folded, surrounding whitespace and zero-width marks trimmed."""
    if value is None:
        return ""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    value = value.strip().strip(_INVISIBLE_EDGE).strip()
    return value if _visible(value) else ""


def _visible(value: str) -> bool:
    """Whether anything would show: whitespace and zero-width characters alone are empty."""
    return any(unicodedata.category(c) not in _UNSEEN and c not in _BLANK_LETTERS for c in value)


def problem(value: str, *, multiline: bool = True) -> str | None:
    """The catalogue key for what makes already-normalised text unfit to store, or None."""
    if _SURROGATE.search(value) or _CONTROL.search(value) or (not multiline and "\n" in value):
        return "error.text.control"
    if _BIDI.search(value):
        return "error.text.bidi"
    if _mark_flood(value):
        return "error.text.marks"
    return None


def _mark_flood(value: str) -> bool:
    run = 0
    for char in value:
        run = run + 1 if unicodedata.category(char) in _MARKS else 0
        if run > MAX_MARKS:
            return True
    return False


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
    `error.text.control`, `error.text.bidi` or `error.text.marks`, each carrying the
    field name. Text that shows nothing (whitespace, zero-width characters) is empty.
    """
    text = normalize(value)
    if required and not text:
        raise DomainError("error.text.required", field=field)
    if len(text) > max_length:
        raise DomainError("error.text.too_long", field=field, max=max_length, length=len(text))
    key = problem(text, multiline=multiline)
    if key is not None:
        raise DomainError(key, field=field, max=MAX_MARKS)
    return text


def printable(value: object, limit: int = _PRINTABLE_LIMIT) -> str:
    """A value quoted back in a message: control, bidi and surrogate characters spelled
    out (a terminal would obey an escape sequence), and shortened to `limit` characters."""
    shown = str(value)
    if len(shown) > limit:
        shown = shown[:limit] + "…"
    unsafe = re.compile(f"{_CONTROL.pattern}|{_BIDI.pattern}|{_SURROGATE.pattern}|[\\r\\n\\t]")
    return unsafe.sub(lambda m: ascii(m[0])[1:-1], shown)


def defuse_links(text: str) -> str:
    """Split what Markdown would turn into a link by itself (a bare URL, `www.`, an
    e-mail address) with an invisible WORD JOINER: user text shows as plain text."""
    text = _LINK_SCHEME.sub(lambda m: f"{m[1]}:{WORD_JOINER}", text)
    text = _LINK_WWW.sub(lambda m: f"{m[1]}{WORD_JOINER}.", text)
    return text.replace("@", "@" + WORD_JOINER)


def escape_markdown(text: str) -> str:
    """Backslash-escape what Streamlit's Markdown would interpret, for labels and titles,
    and defuse bare links (`defuse_links`).

    Body text is shown with `st.text`; this is for the few places that only take Markdown.
    """
    return _MD_SPECIAL.sub(r"\\\1", defuse_links(text)).replace("\n", " ")


def escape_inline(text: str) -> str:
    """escape_markdown for text quoted inside a sentence (a name in an error message):
    only what is markup anywhere in a line, so a quoted `cluster-2561` reads as typed."""
    return _MD_INLINE.sub(r"\\\1", defuse_links(text)).replace("\n", " ")


def neutralize_formula(value: object) -> object:
    """Prefix a quote to text a spreadsheet would run as a formula (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
