"""Thai line breaking for the PDF: fpdf2 wraps only at spaces, Thai has none between words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from models import thai

# --- Thai line breaking --------------------------------------------------------------------

# No line may start with these (they stick to the word before) ...
_NO_BREAK_BEFORE = frozenset(")]}»”’,.;:!?%-ๆฯ")
# ... nor end with these (they stick to the word after).
_NO_BREAK_AFTER = frozenset("([{«“‘")


def words(text: str, *, keep: Iterable[str] = ()) -> list[str]:
    """Where a line may break: `thai.segment`'s words, spaces kept, punctuation glued.

    Each occurrence of a string in `keep` (a group's name, say) stays one piece.
    """
    out: list[str] = []
    glue = False
    for token in thai.segment(text, keep_whitespace=True):
        if out and not token.isspace() and (glue or token[0] in _NO_BREAK_BEFORE):
            if token[0] in _NO_BREAK_BEFORE and len(out) > 1 and out[-1].isspace():
                token = out.pop() + token  # "เรื่อย ๆ": the space before ๆ is no break either
            out[-1] += token
        else:
            out.append(token)
        glue = not token.isspace() and token[-1] in _NO_BREAK_AFTER
    spans = [
        (found.start(), found.end())
        for unit in keep
        if unit
        for found in re.finditer(re.escape(unit), text)
    ]
    if not spans:
        return out
    merged: list[str] = []
    position = 0
    for token in out:
        if merged and any(start < position < end for start, end in spans):
            merged[-1] += token
        else:
            merged.append(token)
        position += len(token)
    return merged


def clusters(text: str) -> list[str]:
    """`text` as the characters a reader sees: a base with its marks (Thai vowels and tone
    marks above and below, SARA AM, combining accents), emoji joined by ZWJ or modified,
    variation selectors. A line is never cut inside one."""
    out: list[str] = []
    for char in text:
        if out and (_attaches(char) or out[-1][-1] == "\u200d"):
            out[-1] += char
        else:
            out.append(char)
    return out


def _attaches(char: str) -> bool:
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char in "\u0e33\u200d"
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
    )


def _syllables(text: str) -> list[str]:
    # Imported here, after models.thai has told pythainlp to stay read-only.
    from pythainlp.tokenize import syllable_tokenize

    pieces = syllable_tokenize(text, engine="dict")
    return pieces if "".join(pieces) == text else [text]  # never lose a character


# How an over-long piece is cut, coarsest first: between words (a kept unit such as a
# group's name), at spaces (punctuation glued on after a space, as in "https://… ."),
# between syllables, between clusters. Each level only ever hands its pieces to the next
# one, so cutting ends after four levels whatever the text (issue #12: a piece that the
# word level gave back whole used to recurse until RecursionError).
_LEVELS: tuple[Callable[[str], list[str]], ...] = (
    lambda text: words(text),
    lambda text: [part for part in re.split(r"(\s+)", text) if part],
    _syllables,
    clusters,
)


def _cut(piece: str, width: float, measure: Callable[[str], float], level: int) -> list[str]:
    if level == len(_LEVELS) or piece.isspace() or measure(piece) <= width:
        return [piece]
    return [
        smaller
        for part in _LEVELS[level](piece)
        for smaller in _cut(part, width, measure, level + 1)
    ]


def _pack(pieces: Iterable[str], width: float, measure: Callable[[str], float]) -> list[str]:
    """Pieces joined into lines of at most `width`; a piece too wide alone gets a line.
    Spaces at a break are dropped."""
    lines, current = [], ""
    for piece in pieces:
        if piece.isspace():
            current += piece if current else ""
            continue
        if current and measure(current + piece) > width:
            lines.append(current.rstrip())
            current = ""
        current += piece
    return [*lines, current] if current else lines


def _break_long(token: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """A piece wider than a line, as lines: cut as coarsely as fits (see `_LEVELS`), never
    between a consonant and its marks."""
    return _pack(_cut(token, width, measure, 0), width, measure) or [token]


def wrap(
    text: str, width: float, measure: Callable[[str], float], *, keep: Iterable[str] = ()
) -> list[str]:
    """Lines of at most `width` (as `measure` counts), broken between words; newlines kept.

    Greedy filling: a word goes on the line if it fits, else starts the next one; the
    spaces at a break are dropped. A word longer than a whole line is cut between
    syllables (then character clusters), never between a consonant and its marks.
    Strings in `keep` are not broken unless they are longer than a line.
    """
    keep = tuple(keep)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for token in words(paragraph, keep=keep):
            size = measure(token)
            if token.isspace():
                if line:
                    line.append(token)
                    used += size
                continue
            if line and used + size > width:
                lines.append("".join(line).rstrip())
                line, used = [], 0.0
            if size > width:
                *full, token = _break_long(token, width, measure)
                lines.extend(full)
                size = measure(token)
            line.append(token)
            used += size
        lines.append("".join(line).rstrip())
    return lines
