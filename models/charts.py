"""Plotly figures, styled to be read from the back of a hall (large type, high contrast)."""

from __future__ import annotations

import plotly.graph_objects as go

from models import i18n
from models.stats import Summary

FONT = dict(family="Sarabun, sans-serif", size=18, color="#111")
BAR = "#1f4e9c"


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, font=dict(size=22)),
        font=FONT,
        height=height,
        margin=dict(l=10, r=10, t=60, b=10),
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    return fig


def issues_by_domain(summary: Summary, lang: str) -> go.Figure:
    series = summary.by_domain(lang)
    fig = go.Figure(go.Bar(x=series.index, y=series.values, marker_color=BAR, text=series.values))
    fig.update_traces(textposition="outside", cliponaxis=False)
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
    return _layout(fig, i18n.t(lang, "overview.by_group"), height=max(420, 28 * len(series) + 100))
