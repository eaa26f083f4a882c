"""Plotly figures, styled to be read from the back of a hall (large type, high contrast).

Each chart is built as a plain plotly spec (`*_spec`, a dict): the live dashboard rebuilds
them on every change for hundreds of tabs, and plotly's graph objects cost ~100 ms per
figure to build and validate against well under 1 ms for a dict. The functions without
the suffix wrap the same spec in a validated `go.Figure` (reports, static images).
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go

from models import i18n
from models.ranking import RankedTheme
from models.stats import Summary

Spec = dict[str, Any]

FONT = dict(family="Sarabun, sans-serif", size=18, color="#111")
BAR = "#1f4e9c"
ACCENT = "#d9480f"
LABEL_MAX = 40  # characters of a theme title on an axis or bubble
GRID = dict(gridcolor="#dddddd", zerolinecolor="#888888", linecolor="#888888")
# Plotly's default template is ~7 KB of JSON in every chart, sent to every open tab on
# every refresh; this one holds only what it would style that is not set below.
TEMPLATE: Spec = {"layout": {"xaxis": GRID, "yaxis": GRID}}


def _short(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def _spec(
    data: list[Spec],
    title: str,
    *,
    height: int = 420,
    top: int = 60,
    xaxis: Spec | None = None,
    yaxis: Spec | None = None,
) -> Spec:
    def axis(extra: Spec | None) -> Spec:
        return {"tickfont": {"size": 17}, "automargin": True, **(extra or {})}

    return {
        "data": data,
        "layout": {
            "template": TEMPLATE,
            "title": {"text": title, "font": {"size": 24}},
            "font": FONT,
            "height": height,
            "margin": {"l": 10, "r": 10, "t": top, "b": 10},
            "plot_bgcolor": "white",
            "paper_bgcolor": "white",
            "hoverlabel": {"font": {"size": 18}},
            "xaxis": axis(xaxis),
            "yaxis": axis(yaxis),
        },
    }


def _counts_axis(values: list[int]) -> Spec:
    """Counts are whole numbers: ticks at whole steps, about eight of them at most."""
    step = max(1, math.ceil(max([0, *values]) / 8))
    return {"tick0": 0, "dtick": step, "rangemode": "tozero"}


def _bars(labels: list[str], values: list[int], *, horizontal: bool, color: str = BAR) -> Spec:
    bar: Spec = {
        "type": "bar",
        "marker": {"color": color},
        "text": values,
        "textposition": "outside",
        "cliponaxis": False,
    }
    if horizontal:
        return {**bar, "x": values, "y": labels, "orientation": "h"}
    return {**bar, "x": labels, "y": values}


def issues_by_domain_spec(summary: Summary, lang: str) -> Spec:
    series = summary.by_domain(lang)
    values = [int(v) for v in series.values]
    return _spec(
        [_bars([str(i) for i in series.index], values, horizontal=False)],
        i18n.t(lang, "overview.by_domain"),
        yaxis=_counts_axis(values),
    )


def issues_by_group_spec(summary: Summary, lang: str) -> Spec:
    series = summary.by_group()
    values = [int(v) for v in series.values]
    return _spec(
        [_bars([str(i) for i in series.index], values, horizontal=True)],
        i18n.t(lang, "overview.by_group"),
        height=max(420, 28 * len(series) + 100),
        xaxis=_counts_axis(values),
        yaxis={"autorange": "reversed"},
    )


def group_domain_heatmap_spec(summary: Summary, lang: str) -> Spec:
    counts = summary.counts
    z = counts.to_numpy().astype(int).tolist()
    heat = {
        "type": "heatmap",
        "z": z,
        "x": [summary.domain_label(d, lang) for d in summary.domains],
        "y": [str(name) for name in counts.index],
        # Light for none, dark for many (plotly's named "Blues" runs the other way).
        "colorscale": [[0.0, "#f4f8fc"], [1.0, "#0b3d91"]],
        "text": z,
        "texttemplate": "%{text}",
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
    }
    return _spec(
        [heat],
        i18n.t(lang, "dashboard.heatmap"),
        height=max(420, 30 * len(counts) + 200),
        top=150,  # room for the title above the slanted domain names
        xaxis={"side": "top", "tickangle": -30},  # four Thai domain names overlap when level
        yaxis={"autorange": "reversed"},
    )


def participation_spec(summary: Summary, lang: str) -> Spec:
    """Per domain: how many groups have entered at least one issue there."""
    active = (summary.counts > 0).sum(axis=0)
    total = summary.group_count
    labels = [summary.domain_label(d, lang) for d in summary.domains]
    values = [int(active.get(d.id, 0)) for d in summary.domains]
    bars = _bars(labels, values, horizontal=False)
    bars["text"] = [f"{v}/{total}" for v in values]
    return _spec(
        [bars],
        i18n.t(lang, "dashboard.participation"),
        yaxis={"range": [0, max(total, 1) * 1.15], "tickformat": "d"},
    )


def top_themes_spec(ranked: list[RankedTheme], lang: str, *, top: int = 10) -> Spec:
    shown = ranked[:top]
    labels = [f"{r.rank}. {_short(r.theme.title)}" for r in shown]
    return _spec(
        [_bars(labels, [r.votes for r in shown], horizontal=True, color=ACCENT)],
        i18n.t(lang, "dashboard.top_themes"),
        height=max(420, 44 * len(shown) + 120),
        yaxis={"autorange": "reversed"},
    )


def impact_feasibility_spec(ranked: list[RankedTheme], lang: str) -> Spec:
    scored = [r for r in ranked if r.impact is not None and r.feasibility is not None]
    bubbles = {
        "type": "scatter",
        "x": [r.feasibility for r in scored],
        "y": [r.impact for r in scored],
        "mode": "markers+text",
        "text": [_short(r.theme.title) for r in scored],
        "textposition": "top center",
        "marker": {
            "size": [18 + 6 * r.votes for r in scored],
            "color": ACCENT,
            "opacity": 0.7,
            "line": {"color": "#222", "width": 1},
        },
    }

    def axis(key: str) -> Spec:
        return {"range": [0.5, 5.5], "title": {"text": i18n.t(lang, key)}, "dtick": 1}

    return _spec(
        [bubbles],
        i18n.t(lang, "dashboard.bubble"),
        height=520,
        xaxis=axis("dashboard.feasibility"),
        yaxis=axis("dashboard.impact"),
    )


def frequent_words_spec(words: list[tuple[str, int]], lang: str) -> Spec:
    values = [n for _, n in words]
    return _spec(
        [_bars([w for w, _ in words], values, horizontal=True)],
        i18n.t(lang, "dashboard.words"),
        height=max(420, 30 * len(words) + 120),
        xaxis=_counts_axis(values),
        yaxis={"autorange": "reversed"},
    )


def issues_by_domain(summary: Summary, lang: str) -> go.Figure:
    return go.Figure(issues_by_domain_spec(summary, lang))


def issues_by_group(summary: Summary, lang: str) -> go.Figure:
    return go.Figure(issues_by_group_spec(summary, lang))


def group_domain_heatmap(summary: Summary, lang: str) -> go.Figure:
    return go.Figure(group_domain_heatmap_spec(summary, lang))


def participation(summary: Summary, lang: str) -> go.Figure:
    return go.Figure(participation_spec(summary, lang))


def top_themes(ranked: list[RankedTheme], lang: str, *, top: int = 10) -> go.Figure:
    return go.Figure(top_themes_spec(ranked, lang, top=top))


def impact_feasibility(ranked: list[RankedTheme], lang: str) -> go.Figure:
    return go.Figure(impact_feasibility_spec(ranked, lang))


def frequent_words(words: list[tuple[str, int]], lang: str) -> go.Figure:
    return go.Figure(frequent_words_spec(words, lang))
