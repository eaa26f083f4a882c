"""Presentation mode for the plenary: a join screen, then one ranked theme per screen."""

from __future__ import annotations

import streamlit as st

from models import dashboard, i18n, links, recommendations, themes, views, workshops
from models.schema import Level, RecommendationStatus
from pages import _present_parts, _ui

who = _ui.guard("present")
engine = _ui.engine()
workshop, version = _ui.current()
lang = _ui.lang()
shown_version = dashboard.version(engine, workshop.id)  # type: ignore[arg-type]
ranked = views.ranked(engine, workshop.id, version)  # type: ignore[arg-type]
slides = len(ranked) + 1  # the join screen, then one theme each
ss = st.session_state
ss["slide"] = min(max(ss.get("slide", 0), 0), slides - 1)


@st.fragment(run_every=3)
def _watch() -> None:
    if dashboard.version(engine, workshop.id) != shown_version:  # type: ignore[arg-type]
        st.rerun()


_present_parts.fullscreen_style()
_present_parts.controls(ss["slide"], slides)

if ss["slide"] == 0:
    st.header(_ui.md(workshop.title))
    _ui.workshop_caption(workshop, with_title=False)
    base = links.base_url()
    _present_parts.join_screen(
        links.view_link(base, workshop.view_code),
        [
            (g.name, links.join_link(base, g.join_code))
            for g in workshops.list_groups(engine, workshop.id)
        ]  # type: ignore[arg-type]
        if _ui.is_staff()
        else [],
    )
else:
    entry = ranked[ss["slide"] - 1]
    board = themes.board(engine, workshop.id)  # type: ignore[arg-type]
    view = next(v for v in board.themes if v.theme.id == entry.theme.id)
    by_level = recommendations.by_theme_and_level(
        engine,
        workshop.id,
        statuses=[RecommendationStatus.ACCEPTED],  # type: ignore[arg-type]
    ).get(entry.theme.id, {})
    rank = _ui.tr("ranking.tie", rank=entry.rank) if entry.tied else entry.rank
    st.caption(_ui.tr("present.position", rank=rank, total=len(ranked)))
    st.header(_ui.md(entry.theme.title))
    if entry.theme.description:
        st.text(entry.theme.description)
    _present_parts.figures_row(entry, lang)
    st.caption(_ui.tr("present.raised_by") + " " + _ui.md(", ".join(entry.raised_by)))
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader(_ui.tr("present.issues", count=entry.issue_count))
        for issue in view.issues[:12]:
            st.text(f"• {issue.statement}")
        if entry.issue_count > 12:
            st.caption(_ui.tr("present.more", count=entry.issue_count - 12))
    with right:
        st.subheader(_ui.tr("present.recommendations"))
        names = i18n.choices(lang, "level")
        for level in Level:
            for rec in by_level.get(level.value, []):
                st.markdown(f"**{names[level.value]}**")
                st.text(rec.text)
        if not by_level:
            st.caption(_ui.tr("present.no_recommendations"))
_watch()
