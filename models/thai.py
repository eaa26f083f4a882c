"""Thai text as words: normalisation, word segmentation and the words that carry meaning.

Thai has no spaces between words, so counting "words" needs a segmenter: pythainlp's
`newmm` dictionary tokenizer works offline from its package data.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable

# pythainlp otherwise creates ~/pythainlp-data at import; everything we use ships inside.
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

from pythainlp.corpus import thai_stopwords
from pythainlp.tokenize import word_tokenize
from pythainlp.util import Trie, dict_trie
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
    words = segment(normalize(text))
    return [w.lower() for w in (w.strip() for w in words) if w and _WORD.search(w)]


def content_words(text: str) -> list[str]:
    """Tokens that carry meaning: stopwords and single characters dropped."""
    stop = stopwords()
    return [w for w in tokens(text) if w not in stop and len(w) > 1]


# --- words for the "most frequent words" chart ---------------------------------------------
#
# newmm splits compounds its dictionary lacks into pieces that mean little alone on a chart
# ("ค่า" + "สาธารณูปโภค", "เบิก" + "จ่าย", "ไม่" + "ทัน") and cuts Thai abbreviations at their
# dots ("กศ" + "จ."). The chart's words come from newmm with the dictionary plus the
# compounds of education administration below, abbreviations kept whole, and the bound
# pieces that still come out alone dropped (issue #11: "จ.", "ค่า", "ทัน", "จ่าย").

COMPOUNDS = frozenset(
    {
        "เบิกจ่าย", "ค่าสาธารณูปโภค", "ค่าตอบแทน", "ค่าเดินทาง", "ค่าครองชีพ", "เขตพื้นที่",
        "สำนักงานเขตพื้นที่", "ไม่ทัน", "ทันเวลา", "ปีงบประมาณ", "รายหัว", "เงินอุดหนุน",
        "อัตรากำลัง", "ศึกษานิเทศก์", "วิทยฐานะ", "สาขาวิชาเอก", "วิชาเอก", "ครูอัตราจ้าง",
        "ขาดแคลน", "ล่าช้า", "ซ้ำซ้อน", "ห่างไกล", "ทุรกันดาร", "ขนาดเล็ก", "ย้ายบ่อย",
    }
)  # fmt: skip
# Pieces of words, not words: alone on the chart they say nothing.
FRAGMENTS = frozenset({"ค่า", "จ่าย", "เบิก", "ราย", "หัว", "ทัน", "กศ", "อก", "ศ"})
# A Thai abbreviation: consonants each closed by a dot ("กศจ.", "อ.ก.ค.ศ.", "จ."), not the
# end of a word before a full stop.
_ABBREVIATION = re.compile(r"(?<![\u0e01-\u0e4e])(?:[\u0e01-\u0e2e]{1,5}\.)+")
_EDGE_PUNCTUATION = "()[]{}\"'“”‘’«»,;:!?.…-–—/"


_building = threading.Lock()


@functools.cache
def _dictionary() -> Trie:
    from pythainlp.corpus import thai_words

    return dict_trie(set(thai_words()) | COMPOUNDS)


def dictionary() -> Trie:
    """pythainlp's word list plus COMPOUNDS, as one trie for the whole process.

    Every segmentation here uses it (`segment`), so pythainlp never builds its own default
    trie beside it: each is ~60 MB and ~0.4 s of CPU, paid by a fresh server's first
    dashboard. Built once under a lock: two first requests must not build it twice.
    """
    with _building:
        return _dictionary()


def segment(text: str, *, keep_whitespace: bool = False) -> list[str]:
    """`text` cut into words by newmm with `dictionary()` (compounds stay whole)."""
    return word_tokenize(
        text, engine="newmm", custom_dict=dictionary(), keep_whitespace=keep_whitespace
    )


def chart_words(text: str) -> list[str]:
    """The words of `text` worth counting on a chart: whole words and abbreviations,
    lower-cased, without stopwords, noise, fragments, single letters or punctuation."""
    stop = stopwords()
    found: list[str] = []
    position = 0
    text = normalize(text)
    for match in [*_ABBREVIATION.finditer(text), None]:
        end = match.start() if match else len(text)
        for word in segment(text[position:end]):
            word = word.strip().strip(_EDGE_PUNCTUATION).lower()
            if len(word) > 1 and _WORD.search(word) and word not in stop:
                found.append(word)
        if match:
            consonants = match.group().replace(".", "")
            if len(consonants) > 1:  # "กศจ." names a body; "จ." is just "province"
                found.append(match.group())
            position = match.end()
    return [w for w in found if w not in CHART_NOISE and w not in FRAGMENTS]


def word_frequencies(texts: Iterable[str], *, top: int = 20) -> list[tuple[str, int]]:
    """The most frequent meaningful words, most frequent first (ties alphabetical)."""
    counts = Counter(w for text in texts for w in chart_words(text))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
