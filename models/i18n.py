"""One message catalogue per language in data/locales/; Thai first, English second.

Dates in Thai use the Buddhist era (2018 → 2561).
"""

from __future__ import annotations

import datetime as dt
import functools
import string
import tomllib
from pathlib import Path
from typing import Any

from models.errors import DomainError

LOCALES = Path(__file__).resolve().parent.parent / "data" / "locales"
LANGS = ("th", "en")
DEFAULT_LANG = "th"
BUDDHIST_ERA_OFFSET = 543


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


@functools.cache
def catalogue(lang: str) -> dict[str, Any]:
    """Every key of one language, flattened to dotted names."""
    with (LOCALES / f"{lang}.toml").open("rb") as fh:
        return _flatten(tomllib.load(fh))


def t(lang: str, key: str, **values: Any) -> str:
    """The message `key` in `lang` (falling back to Thai), with `{values}` filled in."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    template = catalogue(lang).get(key)
    if template is None:
        template = catalogue(DEFAULT_LANG).get(key, key)
    if not values:
        return str(template)
    if "|" in str(template):
        return _PLURALS.vformat(str(template), (), values)
    return str(template).format_map(values)


class _Plurals(string.Formatter):
    """`{count:issue|issues}` is "issue" when count is 1, else "issues" (English nouns
    after a number; Thai has no plural and never uses the form)."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            one, _, other = format_spec.partition("|")
            try:
                return one if float(value) == 1 else other
            except (TypeError, ValueError):
                return other
        return str(super().format_field(value, format_spec))


_PLURALS = _Plurals()


def choices(lang: str, prefix: str) -> dict[str, str]:
    """All messages under `prefix.` as {suffix: text}, in catalogue order (for select boxes)."""
    start = prefix + "."
    return {k[len(start) :]: str(v) for k, v in catalogue(lang).items() if k.startswith(start)}


def error_message(lang: str, error: DomainError) -> str:
    """The translated text of a domain error; a `field` value is translated too."""
    values = dict(error.values)
    if "field" in values:
        values["field"] = t(lang, f"field.{values['field']}")
    if "phase" in values:
        values["phase"] = t(lang, f"phase.{values['phase']}")
    return t(lang, error.key, **values)


def year(day: dt.date, lang: str) -> int:
    return day.year + BUDDHIST_ERA_OFFSET if lang == "th" else day.year


def month_name(day: dt.date, lang: str) -> str:
    return catalogue(lang)["month.names"][day.month - 1]


def format_date(day: dt.date, lang: str) -> str:
    """14 มีนาคม 2561 / 14 March 2018."""
    return f"{day.day} {month_name(day, lang)} {year(day, lang)}"


def format_date_range(start: dt.date, end: dt.date, lang: str) -> str:
    """14–16 มีนาคม 2561; 30 มีนาคม – 2 เมษายน 2561; a single day when start == end."""
    if start == end:
        return format_date(start, lang)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {month_name(end, lang)} {year(end, lang)}"
    if start.year == end.year:
        return f"{start.day} {month_name(start, lang)} – {format_date(end, lang)}"
    return f"{format_date(start, lang)} – {format_date(end, lang)}"
