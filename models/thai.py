"""Thai text as words: normalisation, word segmentation and the words that carry meaning.

Thai has no spaces between words, so counting "words" needs a segmenter: pythainlp's
`newmm` dictionary tokenizer works offline from its package data.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

# pythainlp otherwise creates ~/pythainlp-data at import; everything we use ships inside.
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

from pythainlp.corpus import thai_stopwords
from pythainlp.tokenize import word_tokenize
from pythainlp.util import normalize as thai_normalize

# pythainlp's stopwords include words that carry the meaning of a problem statement
# ("lacking", "slow", "small", "not", "much"): keep those.
MEANINGFUL = frozenset(
    {
        "ขาด", "ช้า", "เล็ก", "ไม่", "มาก", "น้อย", "ต่ำ", "สูง", "ไม่มี", "ใหญ่", "ยาก",
        "ไกล", "เกิน", "ขาดแคลน", "ล่าช้า", "ซ้ำซ้อน", "ไม่พอ", "ใหม่", "เก่า", "ปัญหา",
        "เพียงพอ", "พอ", "ทัน", "ครบ", "เร็ว", "ง่าย",
    }
)  # fmt: skip
# Words every statement of such a workshop uses; they say nothing on a chart.
GENERIC = frozenset({"การ", "ความ", "ทำให้", "เนื่องจาก", "เป็น", "ของ", "และ", "ใน", "ที่", "มี"})
ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "not",
        "of",
        "on",
        "or",
        "the",
        "to",
        "too",
        "was",
        "were",
        "with",
    ]
)
# Alone on a chart, these say nothing (in a sentence they do, so tokens keep them).
CHART_NOISE = frozenset({"ไม่", "ไม่มี", "มาก", "น้อย"})
_WORD = re.compile(r"[\u0e00-\u0e7fA-Za-z]")


def normalize(text: str) -> str:
    """NFC plus Thai-specific fixes (vowel and tone-mark order, stray zero-width marks)."""
    return unicodedata.normalize("NFC", thai_normalize(unicodedata.normalize("NFC", text)))


@functools.cache
def stopwords() -> frozenset[str]:
    return (frozenset(thai_stopwords()) - MEANINGFUL) | GENERIC | ENGLISH_STOPWORDS


def tokens(text: str) -> list[str]:
    """Words of `text` (Thai segmented, English lower-cased), without spaces or punctuation."""
    words = word_tokenize(normalize(text), engine="newmm", keep_whitespace=False)
    return [w.lower() for w in (w.strip() for w in words) if w and _WORD.search(w)]


def content_words(text: str) -> list[str]:
    """Tokens that carry meaning: stopwords and single characters dropped."""
    stop = stopwords()
    return [w for w in tokens(text) if w not in stop and len(w) > 1]


def word_frequencies(texts: Iterable[str], *, top: int = 20) -> list[tuple[str, int]]:
    """The most frequent meaningful words, most frequent first (ties alphabetical)."""
    counts = Counter(w for text in texts for w in content_words(text) if w not in CHART_NOISE)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
