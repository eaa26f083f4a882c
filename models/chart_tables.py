"""What each dashboard and report chart says, in words and in rows (issue #14).

A chart's `ChartTable` holds a one-line summary naming its top three values (shown as
plain text under the chart, the chart's accessible description, the report image's alt
text) and its data as rows (the dashboard's "show as table" view). Everything is built
from the data the chart itself is drawn from (a `Summary`, the ranked themes, the word
counts): the live dashboard derives them in the snapshot it already builds, so a refresh
costs no query more. Texts here are plain user text, never plotly's escaped labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models import i18n
from models.ranking import RankedTheme
from models.stats import Summary

TOP = 3  # values a summary names
Cell = str | int | float


@dataclass(frozen=True)
class ChartTable:
    """A chart's title, its summary in words, and its data as columns and rows."""

    title: str
    summary: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def as_columns(self) -> dict[str, list[Cell]]:
        """{column: values}, what st.table takes (user text stays data, never Markdown)."""
        return {name: [row[n] for row in self.rows] for n, name in enumerate(self.columns)}

    @property
    def alt_text(self) -> str:
        """Title and summary: an image's description must make sense on its own."""
        return f"{self.title}. {self.summary}"


def _number(value: float) -> str:
    return f"{value:.1f}"


def _top(
    lang: str,
    chart: str,
    items: Sequence[tuple[str, int]],
    *,
    empty: str,
    **extra: int,
) -> str:
    """`chart.<chart>.lead` naming the (at most) three largest non-zero values.

    The first item carries its unit ("งบประมาณ 12 ประเด็น"), the others only their number,
    as one says it. Equal values keep the chart's own order (stable sort), so the summary
    names what the chart shows first.
    """
    ordered = sorted((item for item in items if item[1] > 0), key=lambda item: -item[1])
    shown = ordered[:TOP]
    if not shown:
        return i18n.t(lang, empty)
    name, value = shown[0]
    head = i18n.t(lang, f"chart.{chart}.first", name=name, value=value, **extra)
    named = [head, *(i18n.t(lang, "chart.item", name=n, value=v) for n, v in shown[1:])]
    # Equal to the last one named but left out: say so rather than pick three at random.
    if tied := sum(v == shown[-1][1] for _, v in ordered[TOP:]):
        named.append(i18n.t(lang, "chart.more", count=tied, value=shown[-1][1]))
    return i18n.t(lang, f"chart.{chart}.lead", items=i18n.t(lang, "chart.sep").join(named))


def _col(lang: str, key: str) -> str:
    return i18n.t(lang, f"chart.col.{key}")


def by_domain(summary: Summary, lang: str) -> ChartTable:
    items = [(str(name), int(n)) for name, n in summary.by_domain(lang).items()]
    return ChartTable(
        i18n.t(lang, "overview.by_domain"),
        _top(lang, "issues", items, empty="dashboard.no_issues"),
        (_col(lang, "domain"), _col(lang, "issues")),
        tuple(items),
    )


def by_group(summary: Summary, lang: str) -> ChartTable:
    items = [(str(name), int(n)) for name, n in summary.by_group().items()]
    return ChartTable(
        i18n.t(lang, "overview.by_group"),
        _top(lang, "issues", items, empty="dashboard.no_issues"),
        (_col(lang, "group"), _col(lang, "issues")),
        tuple(items),
    )


def heatmap(summary: Summary, lang: str) -> ChartTable:
    """Rows are groups, columns domains: the grid the heatmap colours, as numbers."""
    names = [summary.domain_label(d, lang) for d in summary.domains]
    grid = summary.counts.to_numpy().astype(int).tolist()
    groups = [str(g) for g in summary.counts.index]
    cells = [
        (i18n.t(lang, "chart.cell", group=group, domain=domain), n)
        for group, row in zip(groups, grid, strict=True)
        for domain, n in zip(names, row, strict=True)
    ]
    return ChartTable(
        i18n.t(lang, "dashboard.heatmap"),
        _top(lang, "issues", cells, empty="dashboard.no_issues"),
        (_col(lang, "group"), *names),
        tuple((group, *row) for group, row in zip(groups, grid, strict=True)),
    )


def participation(summary: Summary, lang: str) -> ChartTable:
    active = (summary.counts > 0).sum(axis=0)
    total = summary.group_count
    items = [(summary.domain_label(d, lang), int(active.get(d.id, 0))) for d in summary.domains]
    return ChartTable(
        i18n.t(lang, "dashboard.participation"),
        _top(lang, "participation", items, empty="dashboard.no_issues", total=total),
        (_col(lang, "domain"), _col(lang, "groups"), _col(lang, "of_groups")),
        tuple((name, n, total) for name, n in items),
    )


def _rank(item: RankedTheme, lang: str) -> str:
    return i18n.t(lang, "ranking.tie", rank=item.rank) if item.tied else str(item.rank)


def _theme(item: RankedTheme) -> str:
    return f"{item.rank}. {item.theme.title}"


def top_themes(ranked: list[RankedTheme], lang: str, *, top: int = 10) -> ChartTable:
    shown = ranked[:top]
    empty = "chart.no_votes" if shown else "dashboard.no_themes"
    return ChartTable(
        i18n.t(lang, "dashboard.top_themes"),
        _top(lang, "votes", [(_theme(r), r.votes) for r in shown], empty=empty),
        (_col(lang, "rank"), _col(lang, "theme"), _col(lang, "votes")),
        tuple((_rank(r, lang), r.theme.title, r.votes) for r in shown),
    )


def bubble(ranked: list[RankedTheme], lang: str) -> ChartTable:
    """The scored themes in rank order: the summary names the first three with both
    means (a bubble's place), and its votes (its size)."""
    scored = [r for r in ranked if r.impact is not None and r.feasibility is not None]
    named = [
        i18n.t(
            lang,
            "chart.bubble.item",
            name=_theme(r),
            impact=_number(r.impact),  # type: ignore[arg-type]
            feasibility=_number(r.feasibility),  # type: ignore[arg-type]
            votes=r.votes,
        )
        for r in scored[:TOP]
    ]
    summary = (
        i18n.t(lang, "chart.bubble.lead", items=i18n.t(lang, "chart.sep").join(named))
        if named
        else i18n.t(lang, "dashboard.no_scores")
    )
    return ChartTable(
        i18n.t(lang, "dashboard.bubble"),
        summary,
        (
            _col(lang, "rank"),
            _col(lang, "theme"),
            i18n.t(lang, "dashboard.impact"),
            i18n.t(lang, "dashboard.feasibility"),
            _col(lang, "votes"),
        ),
        tuple(
            (_rank(r, lang), r.theme.title, _number(r.impact), _number(r.feasibility), r.votes)  # type: ignore[arg-type]
            for r in scored
        ),
    )


def words(counted: list[tuple[str, int]], lang: str) -> ChartTable:
    return ChartTable(
        i18n.t(lang, "dashboard.words"),
        _top(lang, "words", counted, empty="dashboard.no_issues"),
        (_col(lang, "word"), _col(lang, "times")),
        tuple(counted),
    )


def dashboard_tables(
    summary: Summary, ranked: list[RankedTheme], counted: list[tuple[str, int]], lang: str
) -> dict[str, ChartTable]:
    """Every dashboard chart's table, keyed as models.dashboard.CHARTS."""
    return {
        "by_domain": by_domain(summary, lang),
        "by_group": by_group(summary, lang),
        "heatmap": heatmap(summary, lang),
        "participation": participation(summary, lang),
        "top_themes": top_themes(ranked, lang),
        "bubble": bubble(ranked, lang),
        "words": words(counted, lang),
    }
