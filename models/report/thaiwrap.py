"""Thai line breaking for the PDF: fpdf2 wraps only at spaces, Thai has none between words."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from models import thai

# --- Thai line breaking --------------------------------------------------------------------

# No line may start with these (they stick to the word before) ...
_NO_BREAK_BEFORE = frozenset(")]}»”’,.;:!?%-ๆฯ")
# ... nor end with these (they stick to the word after).
_NO_BREAK_AFTER = frozenset("([{«“‘")
# A base character with the Thai marks written above or below it: never split apart.
_CLUSTER = re.compile(r".[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]*", re.DOTALL)


def words(text: str, *, keep: Iterable[str] = ()) -> list[str]:
    """Where a line may break: pythainlp `newmm` words, spaces kept, punctuation glued.

    Each occurrence of a string in `keep` (a group's name, say) stays one piece.
    """
    out: list[str] = []
    glue = False
    for token in thai.word_tokenize(text, engine="newmm", keep_whitespace=True):
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


def _pack(pieces: Iterable[str], width: float, measure: Callable[[str], float]) -> list[str]:
    """Pieces joined into lines of at most `width`; a piece too wide alone gets a line."""
    lines, current = [], ""
    for piece in pieces:
        if current and measure(current + piece) > width:
            lines.append(current)
            current = ""
        current += piece
    return [*lines, current] if current else lines


def _break_long(token: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """A piece wider than a line: a kept unit is wrapped after all, a word is cut between
    syllables, and a syllable still too wide between character clusters."""
    if any(c.isspace() for c in token):
        return wrap(token, width, measure)
    # Imported here, after models.thai has told pythainlp to stay read-only.
    from pythainlp.tokenize import syllable_tokenize

    pieces: list[str] = []
    for syllable in syllable_tokenize(token, engine="dict"):
        if measure(syllable) > width:
            pieces += _CLUSTER.findall(syllable)
        else:
            pieces.append(syllable)
    return _pack(pieces, width, measure)


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
