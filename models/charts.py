"""Plotly figures, styled to be read from the back of a hall (large type, high contrast)."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from models import i18n
from models.ranking import RankedTheme
from models.stats import Summary

FONT = dict(family="Sarabun, sans-serif", size=18, color="#111")
BAR = "#1f4e9c"
ACCENT = "#d9480f"
LABEL_MAX = 40  # characters of a theme title on an axis or bubble
GRID = dict(gridcolor="#dddddd", zerolinecolor="#888888", linecolor="#888888")
TEMPLATE = go.layout.Template(layout=dict(xaxis=GRID, yaxis=GRID))


def _short(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def _layout(fig: go.Figure, title: str, height: int = 420, top: int = 60) -> go.Figure:
    fig.update_layout(
        # Plotly's default template is ~7 KB of JSON in every chart, sent to every open tab
        # on every refresh; everything it would style is set here or is plotly.js's default.
        template=TEMPLATE,
        title=dict(text=title, font=dict(size=24)),
        font=FONT,
        height=height,
        margin=dict(l=10, r=10, t=top, b=10),
        plot_bgcolor="white",
        paper_bgcolor="white",
        hoverlabel=dict(font_size=18),
    )
    fig.update_xaxes(tickfont=dict(size=17), automargin=True)
    fig.update_yaxes(tickfont=dict(size=17), automargin=True)
    return fig


def _counts_axis(fig: go.Figure, axis: str = "y") -> None:
    """Counts are whole numbers: ticks at whole steps, about eight of them at most."""
    values = [0.0]
    for trace in fig.data:
        data = trace.y if axis == "y" else trace.x
        values += [float(v) for v in (data if data is not None else ())]
    step = max(1, math.ceil(max(values) / 8))
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(tick0=0, dtick=step, rangemode="tozero")


def issues_by_domain(summary: Summary, lang: str) -> go.Figure:
    series = summary.by_domain(lang)
    fig = go.Figure(go.Bar(x=series.index, y=series.values, marker_color=BAR, text=series.values))
    fig.update_traces(textposition="outside", cliponaxis=False)
    _counts_axis(fig)
    return _layout(fig, i18n.t(lang, "overview.by_domain"))


def issues_by_group(summary: Summary, lang: str) -> go.Figure:
    series = summary.by_group()
    fig = go.Figure(
        go.Bar(
            x=series.values, y=series.index, orientation="h", marker_color=BAR, text=series.values
        )
    )
    fig.update_traces(textposition="outside", cliponaxis=False)
    fig.update_yaxes(autorange="reversed")
    _counts_axis(fig, "x")
    return _layout(fig, i18n.t(lang, "overview.by_group"), height=max(420, 28 * len(series) + 100))


def group_domain_heatmap(summary: Summary, lang: str) -> go.Figure:
    counts = summary.counts
    fig = go.Figure(
        go.Heatmap(
            z=counts.to_numpy(),
            x=[summary.domain_label(d, lang) for d in summary.domains],
            y=list(counts.index),
            colorscale="Blues",
            text=counts.to_numpy(),
            texttemplate="%{text}",
            showscale=False,
            xgap=2,
            ygap=2,
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top", tickangle=0)
    return _layout(
        fig, i18n.t(lang, "dashboard.heatmap"), height=max(420, 30 * len(counts) + 160), top=110
    )


def participation(summary: Summary, lang: str) -> go.Figure:
    """Per domain: how many groups have entered at least one issue there."""
    active = (summary.counts > 0).sum(axis=0)
    total = summary.group_count
    labels = [summary.domain_label(d, lang) for d in summary.domains]
    values = [int(active.get(d.id, 0)) for d in summary.domains]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=values,
            marker_color=BAR,
            text=[f"{v}/{total}" for v in values],
            textposition="outside",
            cliponaxis=False,
        )
    )
    fig.update_yaxes(range=[0, max(total, 1) * 1.15], tickformat="d")
    return _layout(fig, i18n.t(lang, "dashboard.participation"))


def top_themes(ranked: list[RankedTheme], lang: str, *, top: int = 10) -> go.Figure:
    shown = ranked[:top]
    fig = go.Figure(
        go.Bar(
            x=[r.votes for r in shown],
            y=[f"{r.rank}. {_short(r.theme.title)}" for r in shown],
            orientation="h",
            marker_color=ACCENT,
            text=[r.votes for r in shown],
            textposition="outside",
            cliponaxis=False,
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(
        fig, i18n.t(lang, "dashboard.top_themes"), height=max(420, 44 * len(shown) + 120)
    )


def impact_feasibility(ranked: list[RankedTheme], lang: str) -> go.Figure:
    scored = [r for r in ranked if r.impact is not None and r.feasibility is not None]
    fig = go.Figure(
        go.Scatter(
            x=[r.feasibility for r in scored],
            y=[r.impact for r in scored],
            mode="markers+text",
            text=[_short(r.theme.title) for r in scored],
            textposition="top center",
            marker=dict(
                size=[18 + 6 * r.votes for r in scored],
                color=ACCENT,
                opacity=0.7,
                line=dict(color="#222", width=1),
            ),
        )
    )
    fig.update_xaxes(range=[0.5, 5.5], title=i18n.t(lang, "dashboard.feasibility"), dtick=1)
    fig.update_yaxes(range=[0.5, 5.5], title=i18n.t(lang, "dashboard.impact"), dtick=1)
    return _layout(fig, i18n.t(lang, "dashboard.bubble"), height=520)


def frequent_words(words: list[tuple[str, int]], lang: str) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=[n for _, n in words],
            y=[w for w, _ in words],
            orientation="h",
            marker_color=BAR,
            text=[n for _, n in words],
            textposition="outside",
            cliponaxis=False,
        )
    )
    fig.update_yaxes(autorange="reversed")
    _counts_axis(fig, "x")
    return _layout(fig, i18n.t(lang, "dashboard.words"), height=max(420, 30 * len(words) + 120))
