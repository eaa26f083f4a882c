"""What the report says: its data, gathered once, and the wording both formats share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from models import chart_tables, i18n, ranking, recommendations, stats, themes
from models.chart_tables import ChartTable
from models.schema import Issue, Level, RecommendationStatus, utcnow

Progress = Callable[[float, str], None]

# Top-down, as the ministry is organised (see the module docstring).
LEVEL_ORDER: tuple[Level, ...] = (Level.CENTRAL, Level.CLUSTER, Level.AREA, Level.SCHOOL)

# Thai official documents: 3 cm left, 2 cm right, 2.5 cm top, 2 cm bottom (in mm).
MARGINS_MM = {"left": 30.0, "right": 20.0, "top": 25.0, "bottom": 20.0}


# --- the report's data -----------------------------------------------------------------


@dataclass(frozen=True)
class IssueItem:
    group: str
    domain: str
    statement: str
    cause: str
    impact: str
    fix: str
    theme: str | None  # the live theme's title; None when not grouped (or hidden)
    hidden_reason: str | None


@dataclass(frozen=True)
class ThemeItem:
    rank: int
    tied: bool  # shares its rank with another theme: every one of them says so
    title: str
    description: str
    votes: int
    group_count: int
    group_total: int
    raised_by: tuple[str, ...]
    impact: float | None
    feasibility: float | None
    issues: tuple[IssueItem, ...]


@dataclass(frozen=True)
class RecommendationItem:
    theme_rank: int
    theme: str
    text: str
    owner: str
    timeframe: str
    priority: int  # 1 high, 2 medium, 3 low


@dataclass(frozen=True)
class LevelSection:
    level: str  # a Level value
    label: str
    items: tuple[RecommendationItem, ...]


@dataclass(frozen=True)
class DomainIssues:
    domain: str
    issues: tuple[IssueItem, ...]


@dataclass(frozen=True)
class GroupAppendix:
    group: str
    domains: tuple[DomainIssues, ...]  # only domains the group entered issues in

    @property
    def issue_count(self) -> int:
        return sum(len(d.issues) for d in self.domains)


@dataclass(frozen=True)
class ReportData:
    lang: str
    slug: str
    title: str
    venue: str
    dates: str  # in `lang`: Buddhist era in Thai
    single_day: bool
    issue_count: int
    groups_active: int  # groups that entered at least one issue
    group_total: int
    theme_count: int
    votes_cast: int
    by_domain: tuple[tuple[str, int], ...]
    themes: tuple[ThemeItem, ...]  # ranked
    recommendations: tuple[LevelSection, ...]  # every level of LEVEL_ORDER, accepted only
    appendix: tuple[GroupAppendix, ...]  # every group, in the workshop's order
    generated_at: dt.datetime  # PDF/DOCX metadata only; never printed on a page
    # Each chart's summary in words, keyed as report.CHARTS: printed under the chart and
    # its image's alt text (issue #14), from the data the chart is drawn from.
    charts: Mapping[str, ChartTable] = field(default_factory=dict)


def collect(engine: Engine, workshop_id: int, lang: str) -> ReportData:
    """Everything the report shows, read once (raises NotFound for an unknown workshop)."""
    board = themes.board(engine, workshop_id)
    ranked = ranking.rank(engine, workshop_id)
    summary = stats.summary(engine, workshop_id)
    workshop = board.workshop
    domains = {d.id: summary.domain_label(d, lang) for d in summary.domains}
    domain_order = {d.id: n for n, d in enumerate(summary.domains)}
    groups = {gid: g.name for gid, g in board.groups.items()}
    group_order = {gid: n for n, gid in enumerate(board.groups)}
    titles = {view.theme.id: view.theme.title for view in board.themes}

    def item(issue: Issue) -> IssueItem:
        return IssueItem(
            group=groups.get(issue.group_id, ""),
            domain=domains.get(issue.domain_id, ""),
            statement=issue.statement,
            cause=issue.cause,
            impact=issue.impact,
            fix=issue.fix,
            theme=titles.get(issue.theme_id) if issue.hidden_reason is None else None,
            hidden_reason=issue.hidden_reason,
        )

    def by_group(issues: Iterable[Issue]) -> list[Issue]:
        return sorted(issues, key=lambda i: (group_order.get(i.group_id, 0), i.id or 0))

    views = {view.theme.id: view for view in board.themes}
    theme_items = tuple(
        ThemeItem(
            rank=r.rank,
            tied=r.tied,
            title=r.theme.title,
            description=r.theme.description,
            votes=r.votes,
            group_count=r.group_count,
            group_total=r.group_total,
            raised_by=r.raised_by,
            impact=r.impact,
            feasibility=r.feasibility,
            issues=tuple(item(i) for i in by_group(views[r.theme.id].issues)),
        )
        for r in ranked
    )

    accepted = recommendations.by_theme_and_level(
        engine, workshop_id, statuses=[RecommendationStatus.ACCEPTED]
    )
    levels = tuple(
        LevelSection(
            level=level.value,
            label=i18n.t(lang, f"level.{level.value}"),
            items=tuple(
                RecommendationItem(
                    theme_rank=r.rank,
                    theme=r.theme.title,
                    text=rec.text,
                    owner=rec.owner,
                    timeframe=rec.timeframe,
                    priority=rec.priority,
                )
                for r in ranked
                for rec in accepted.get(r.theme.id, {}).get(level.value, [])  # type: ignore[arg-type]
            ),
        )
        for level in LEVEL_ORDER
    )

    live = [*(i for view in board.themes for i in view.issues), *board.ungrouped, *board.hidden]
    appendix = []
    for gid, name in groups.items():
        own = sorted(
            (i for i in live if i.group_id == gid),
            key=lambda i: (domain_order.get(i.domain_id, len(domain_order)), i.id or 0),
        )
        sections: dict[int, list[IssueItem]] = {}
        for issue in own:
            sections.setdefault(issue.domain_id, []).append(item(issue))
        appendix.append(
            GroupAppendix(
                group=name,
                domains=tuple(
                    DomainIssues(domains.get(did, ""), tuple(found))
                    for did, found in sections.items()
                ),
            )
        )

    return ReportData(
        lang=lang,
        slug=workshop.slug,
        title=workshop.title,
        venue=workshop.venue,
        dates=i18n.format_date_range(workshop.starts_on, workshop.ends_on, lang),
        single_day=workshop.starts_on == workshop.ends_on,
        issue_count=summary.issue_count,
        groups_active=summary.active_groups,
        group_total=summary.group_count,
        theme_count=len(ranked),
        votes_cast=sum(r.votes for r in ranked),
        by_domain=tuple((str(k), int(v)) for k, v in summary.by_domain(lang).items()),
        themes=theme_items,
        recommendations=levels,
        appendix=tuple(appendix),
        generated_at=utcnow(),
        charts={
            "by_domain": chart_tables.by_domain(summary, lang),
            "heatmap": chart_tables.heatmap(summary, lang),
            "top_themes": chart_tables.top_themes(ranked, lang),
            "bubble": chart_tables.bubble(ranked, lang),
        },
    )


# --- shared wording ----------------------------------------------------------------------


def mean(value: float | None, lang: str) -> str:
    return i18n.t(lang, "report.not_scored") if value is None else f"{value:.1f}"


def dates_line(report: ReportData) -> str:
    key = "report.date_single" if report.single_day else "report.date_range"
    return i18n.t(report.lang, key, dates=report.dates)


def summary_line(report: ReportData) -> str:
    return i18n.t(
        report.lang,
        "report.summary_text",
        active=report.groups_active,
        groups=report.group_total,
        issues=report.issue_count,
        themes=report.theme_count,
        votes=report.votes_cast,
    )


def theme_heading(theme: ThemeItem, lang: str) -> str:
    return i18n.t(lang, "report.theme_heading", rank=theme.rank, title=theme.title)


def theme_numbers(theme: ThemeItem, lang: str) -> str:
    line = i18n.t(
        lang,
        "report.theme_numbers",
        votes=theme.votes,
        groups=theme.group_count,
        total=theme.group_total,
        impact=mean(theme.impact, lang),
        feasibility=mean(theme.feasibility, lang),
    )
    return f"{line} {i18n.t(lang, 'report.tied')}" if theme.tied else line


def raised_by(theme: ThemeItem, lang: str) -> str:
    return i18n.t(
        lang,
        "report.raised_by",
        count=theme.group_count,
        total=theme.group_total,
        groups=", ".join(theme.raised_by),
    )


def issue_details(issue: IssueItem, lang: str) -> list[str]:
    """The lines under an issue in the appendix: cause, impact, fix, and where it went."""
    lines = [
        i18n.t(lang, f"report.{key}", text=value)
        for key, value in (("cause", issue.cause), ("impact", issue.impact), ("fix", issue.fix))
        if value
    ]
    if issue.hidden_reason is not None:
        lines.append(i18n.t(lang, "report.hidden", reason=issue.hidden_reason))
    elif issue.theme is not None:
        lines.append(i18n.t(lang, "report.in_theme", title=issue.theme))
    else:
        lines.append(i18n.t(lang, "report.ungrouped"))
    return lines


def section_title(number: int, key: str, lang: str) -> str:
    return f"{number}. {i18n.t(lang, key)}"


def step(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), message)


def part(progress: Progress | None, start: float, end: float) -> Progress | None:
    """A callback that maps 0–1 onto start–end of the caller's bar."""
    if progress is None:
        return None
    outer = progress
    return lambda fraction, message: outer(start + (end - start) * fraction, message)
