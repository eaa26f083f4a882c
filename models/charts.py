"""Plotly figures, styled to be read from the back of a hall (large type, high contrast).

Each chart is built as a plain plotly spec (`*_spec`, a dict): the live dashboard rebuilds
them on every change for hundreds of tabs, and plotly's graph objects cost ~100 ms per
figure to build and validate against well under 1 ms for a dict. The functions without
the suffix wrap the same spec in a validated `go.Figure` (reports, static images).

Labels must survive any text and any screen (issue #11, #12):

- User text (group, domain and theme names, words) goes through `label`: plotly reads
  a subset of HTML in every text field (`<b>`, `<span style>`, `<a href>`, `<br>`,
  entities) and a string between `$` signs as LaTeX, so `&`, `<`, `>` and `$` become
  entities, which plotly shows literally, on the projector and in the report's images.
- Long labels are wrapped into at most two lines (`<br>`, between Thai words) and cut
  between character clusters, never between a consonant and its marks. Two lines of
  ~22 characters leave room for the bars on a 390 px phone, where the columns stack.
- Titles wrap too (a 1366 px screen gives each chart ~600 px), and the top margin grows
  with them.
- The bubble chart puts each theme's rank inside its bubble and names the themes in the
  legend below: labels written beside bubbles ran into each other and past the plot's
  edge (the top theme's label sat above the top of the axis and was clipped).
- A chart with nothing to show yet says so in its middle instead of drawing empty axes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import plotly.graph_objects as go

from models import i18n
from models.ranking import RankedTheme
from models.report.thaiwrap import clusters, wrap
from models.stats import Summary
from models.xmltext import xml_safe

Spec = dict[str, Any]

FONT = dict(family="Sarabun, sans-serif", size=18, color="#111")
BAR = "#1f4e9c"
# Dark enough for white text on it (6.1:1, the bubbles' ranks) and for a mark on white.
ACCENT = "#b03a0b"
# The heatmap's darkest cell: dark text reads on every cell (6.6:1 here, 18:1 on the
# lightest), so a cell's number never depends on plotly picking a contrasting colour.
HEAT = ("#f4f8fc", "#6f9ae0")
INK = "#111111"
LABEL_MAX = 40  # characters of a theme title on an axis or bubble
GRID = dict(gridcolor="#dddddd", zerolinecolor="#888888", linecolor="#888888")
# Plotly's default template is ~7 KB of JSON in every chart, sent to every open tab on
# every refresh; this one holds only what it would style that is not set below.
TEMPLATE: Spec = {"layout": {"xaxis": GRID, "yaxis": GRID}}


LABEL_WIDTH = 22  # characters on one line of an axis label (two lines at most)
TITLE_WIDTH = 30  # characters on one line of a chart's title
TITLE_PT = 22
TITLE_ROW_PX = 34  # top margin per line of title
TITLE_ROW_HEIGHT = 30  # what the figure grows per line of title beyond the first


_THAI = re.compile("[\u0e00-\u0e7f]")


def _cells(text: str) -> int:
    """How many character widths `text` takes: marks above and below take none."""
    return sum(unicodedata.category(c) not in ("Mn", "Me", "Cf") for c in text)


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("$", "&#36;")
    )


def _cut(text: str, width: int) -> str:
    """At most `width` character widths, cut between clusters and marked with "…"."""
    if _cells(text) <= width:
        return text
    kept = ""
    for cluster in clusters(text):
        if _cells(kept + cluster) > width - 1:
            break
        kept += cluster
    return kept.rstrip() + "…"


def label(text: str, *, width: int = LABEL_WIDTH, lines: int = 2) -> str:
    """User text as plotly shows it literally: one paragraph, wrapped between words into at
    most `lines` lines of about `width` characters (the last one cut with "…"), escaped."""
    flat = " ".join(xml_safe(str(text)).split())  # plotly.js draws SVG: XML characters only
    # A word in a spaced script is not cut to fit ("administra-tion"): the line widens to
    # it, up to twice the width. Thai runs still break between their words.
    spaced = [_cells(w) for w in flat.split() if not _THAI.search(w)]
    width = max(width, min(max(spaced, default=0), 2 * width))
    wrapped = wrap(flat, width, _cells) if flat else [""]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], _cut(" ".join(wrapped[lines - 1 :]), width)]
    return "<br>".join(_escape(_cut(line, width)) for line in wrapped)


def _short(text: str) -> str:
    return label(text, width=LABEL_MAX, lines=1)


def _spec(
    data: list[Spec],
    title: str,
    *,
    height: int = 420,
    top: int = 40,
    xaxis: Spec | None = None,
    yaxis: Spec | None = None,
) -> Spec:
    """A chart; `top` is the room above the plot besides the title's."""

    def axis(extra: Spec | None) -> Spec:
        return {"tickfont": {"size": 17}, "automargin": True, **(extra or {})}

    heading = label(title, width=TITLE_WIDTH, lines=3)
    rows = heading.count("<br>") + 1
    return {
        "data": data,
        "layout": {
            "template": TEMPLATE,
            "title": {"text": heading, "font": {"size": TITLE_PT}, "x": 0.02, "xanchor": "left"},
            "font": FONT,
            "height": height + TITLE_ROW_HEIGHT * (rows - 1),
            "margin": {"l": 10, "r": 10, "t": top + TITLE_ROW_PX * rows, "b": 10},
            "plot_bgcolor": "white",
            "paper_bgcolor": "white",
            "hoverlabel": {"font": {"size": 18}},
            "xaxis": axis(xaxis),
            "yaxis": axis(yaxis),
        },
    }


def align_titles(specs: list[Spec]) -> None:
    """Give charts shown side by side titles of as many lines (in place), so their plots
    start level: one title wrapping to two lines pushed its plot 34 px below its
    neighbour's. A shorter title gets empty lines (plotly centres a title's lines in the
    top margin, so equal lines in equal room put the first lines level too), and what
    `_spec` gives each line of title."""
    rows = [_title_rows(spec) for spec in specs]
    for spec, own in zip(specs, rows, strict=True):
        extra = max(rows) - own
        layout = spec["layout"]
        layout["title"]["text"] += "<br>\u00a0" * extra  # a line holding a no-break space
        layout["margin"]["t"] += TITLE_ROW_PX * extra
        layout["height"] += TITLE_ROW_HEIGHT * extra


def _title_rows(spec: Spec) -> int:
    return str(spec["layout"]["title"]["text"]).count("<br>") + 1


def _empty(spec: Spec, message: str) -> Spec:
    """`spec` with no axes and `message` in the middle: nothing to show yet."""
    layout = spec["layout"]
    for axis in ("xaxis", "yaxis"):
        layout[axis] = {**layout[axis], "visible": False}
    layout["annotations"] = [
        {
            "text": label(message, width=36),
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 0.5,
            "showarrow": False,
            "font": {"size": 20, "color": "#555"},
        }
    ]
    return spec


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


# Domain names under columns: level, in up to three short lines. Slanted, they ran into
# each other and off the chart's left edge at 1366 px (issue #11).
LEVEL: Spec = {"tickangle": 0}


def _domain(name: str) -> str:
    return label(name, width=10, lines=3)


def issues_by_domain_spec(summary: Summary, lang: str) -> Spec:
    series = summary.by_domain(lang)
    values = [int(v) for v in series.values]
    spec = _spec(
        [_bars([_domain(str(i)) for i in series.index], values, horizontal=False)],
        i18n.t(lang, "overview.by_domain"),
        xaxis=LEVEL,
        yaxis=_counts_axis(values),
    )
    return spec if sum(values) else _empty(spec, i18n.t(lang, "dashboard.no_issues"))


def issues_by_group_spec(summary: Summary, lang: str) -> Spec:
    series = summary.by_group()
    values = [int(v) for v in series.values]
    return _spec(
        [_bars([label(str(i)) for i in series.index], values, horizontal=True)],
        i18n.t(lang, "overview.by_group"),
        height=max(420, 34 * len(series) + 100),
        xaxis=_counts_axis(values),
        yaxis={"autorange": "reversed"},
    )


def group_domain_heatmap_spec(summary: Summary, lang: str) -> Spec:
    counts = summary.counts
    z = counts.to_numpy().astype(int).tolist()
    columns = [summary.domain_label(d, lang) for d in summary.domains]
    # Level headers of at most three short lines: slanted ones overlapped their
    # neighbours on a 1366 px screen (issue #11); 8 characters fit a column there.
    width = 8 if len(columns) <= 5 else 6
    heat = {
        "type": "heatmap",
        "z": z,
        "x": [label(name, width=width, lines=3) for name in columns],
        "y": [label(str(name)) for name in counts.index],
        # Light for none, darker for many; the number in each cell says it without colour.
        "colorscale": [[0.0, HEAT[0]], [1.0, HEAT[1]]],
        "text": z,
        "texttemplate": "%{text}",
        "textfont": {"color": INK, "size": 18, "weight": "bold"},
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
    }
    return _spec(
        [heat],
        i18n.t(lang, "dashboard.heatmap"),
        height=max(420, 34 * len(counts) + 200),
        top=90,  # room for three lines of domain names above the columns
        # Larger where the columns leave room (up to five domains): read from the back.
        xaxis={"side": "top", "tickangle": 0, "tickfont": {"size": 16 if width == 8 else 14}},
        yaxis={"autorange": "reversed"},
    )


def participation_spec(summary: Summary, lang: str) -> Spec:
    """Per domain: how many groups have entered at least one issue there."""
    active = (summary.counts > 0).sum(axis=0)
    total = summary.group_count
    labels = [_domain(summary.domain_label(d, lang)) for d in summary.domains]
    values = [int(active.get(d.id, 0)) for d in summary.domains]
    bars = _bars(labels, values, horizontal=False)
    bars["text"] = [f"{v}/{total}" for v in values]
    return _spec(
        [bars],
        i18n.t(lang, "dashboard.participation"),
        xaxis=LEVEL,
        yaxis={"range": [0, max(total, 1) * 1.15], "tickformat": "d"},
    )


def top_themes_spec(ranked: list[RankedTheme], lang: str, *, top: int = 10) -> Spec:
    shown = ranked[:top]
    # Three lines: the whole title of most themes, even on a phone (issue #11).
    labels = [label(f"{r.rank}. {r.theme.title}", width=20, lines=3) for r in shown]
    values = [r.votes for r in shown]
    spec = _spec(
        [_bars(labels, values, horizontal=True, color=ACCENT)],
        i18n.t(lang, "dashboard.top_themes"),
        height=max(420, 66 * len(shown) + 120),
        xaxis=_counts_axis(values),
        yaxis={"autorange": "reversed"},
    )
    return spec if shown else _empty(spec, i18n.t(lang, "dashboard.no_themes"))


def _spread(points: list[tuple[float, float]]) -> list[float]:
    """Sideways offsets so that bubbles at the same spot sit side by side, not on top."""
    offsets, seen = [], {}  # type: ignore[var-annotated]
    for point in points:
        n = seen.get(point, 0)
        seen[point] = n + 1
        offsets.append(0.0 if n == 0 else 0.4 * ((n + 1) // 2) * (1 if n % 2 else -1))
    return offsets


def _bubble_numbers(theme: RankedTheme, lang: str) -> str:
    return i18n.t(
        lang,
        "chart.bubble.legend",
        impact=f"{theme.impact:.1f}",
        feasibility=f"{theme.feasibility:.1f}",
        votes=theme.votes,
    )


def impact_feasibility_spec(ranked: list[RankedTheme], lang: str) -> Spec:
    """Themes placed by mean feasibility (x) and impact (y), sized by votes.

    Each bubble carries the theme's rank; the legend below names the themes with their
    numbers (impact, feasibility, votes), so nothing is told by place or size alone (one
    trace per theme, so a reader can also click one away)."""
    scored = [r for r in ranked if r.impact is not None and r.feasibility is not None]
    offsets = _spread([(r.feasibility, r.impact) for r in scored])  # type: ignore[misc]
    bubbles = [
        {
            "type": "scatter",
            "name": label(f"{r.rank}. {r.theme.title}", width=34)
            + "<br>"
            + _escape(_bubble_numbers(r, lang)),
            "x": [r.feasibility + shift],  # type: ignore[operator]
            "y": [r.impact],
            "mode": "markers+text",
            "text": [str(r.rank)],
            "textposition": "middle center",
            "textfont": {"color": "#ffffff", "size": 17, "weight": "bold"},
            "hovertemplate": "%{fullData.name}<extra></extra>",
            "cliponaxis": False,
            "marker": {
                "size": [22 + 3 * min(r.votes, 12)],
                "color": ACCENT,
                # Opaque (plotly.js makes bubbles 0.7 unless told): white on it stays 6:1.
                "opacity": 1,
                "line": {"color": "#222", "width": 1},
            },
        }
        for r, shift in zip(scored, offsets, strict=True)
    ][::-1]  # the top theme drawn last, on top of any bubble it touches

    def axis(key: str) -> Spec:
        return {"range": [0.5, 5.5], "title": {"text": i18n.t(lang, key)}, "dtick": 1}

    spec = _spec(
        bubbles or [{"type": "scatter", "x": [], "y": []}],
        i18n.t(lang, "dashboard.bubble"),
        height=480 + 72 * len(scored),
        xaxis=axis("dashboard.feasibility"),
        yaxis=axis("dashboard.impact"),
    )
    layout = spec["layout"]
    legend_px = 72 * len(scored)  # up to three lines a theme
    layout["margin"]["b"] = 20 + legend_px
    plot_px = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    layout["showlegend"] = bool(scored)
    layout["legend"] = {
        "orientation": "v",
        "traceorder": "reversed",  # rank order again
        "x": 0,
        "xanchor": "left",
        "y": -80 / max(plot_px, 1),  # below the axis's numbers and title
        "yanchor": "top",
        "itemsizing": "constant",
        "font": {"size": 16},
    }
    return spec if scored else _empty(spec, i18n.t(lang, "dashboard.no_scores"))


def frequent_words_spec(words: list[tuple[str, int]], lang: str) -> Spec:
    values = [n for _, n in words]
    spec = _spec(
        [_bars([label(w) for w, _ in words], values, horizontal=True)],
        i18n.t(lang, "dashboard.words"),
        height=max(420, 30 * len(words) + 120),
        xaxis=_counts_axis(values),
        yaxis={"autorange": "reversed"},
    )
    return spec if words else _empty(spec, i18n.t(lang, "dashboard.no_issues"))


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
