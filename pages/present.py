"""Presentation mode for the plenary: a join screen, the room's progress, then one ranked
theme per screen.

The join screen shows only the follow-along (viewer) link: a group's join code lets
anyone act as that group, so group codes go on printed cards, never on the projector.
"""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import streamlit as st

from models import dashboard, i18n, links, recommendations, themes, views
from models.schema import Level, RecommendationStatus
from pages import _present_parts, _progress_parts, _ui

who = _ui.guard("present")
engine = _ui.engine()
workshop, version = _ui.current()
lang = _ui.lang()
shown_version = dashboard.version(engine, workshop.id)  # type: ignore[arg-type]
ranked = views.ranked(engine, workshop.id, version)  # type: ignore[arg-type]
FIRST_THEME = 2  # the join screen, the room's progress, then one theme each
slides = len(ranked) + FIRST_THEME
ss = st.session_state
ss["slide"] = min(max(ss.get("slide", 0), 0), slides - 1)


@st.fragment(run_every=2)  # any change: the projector follows within 2.5 s
def _watch() -> None:
    if dashboard.version(engine, workshop.id) != shown_version:  # type: ignore[arg-type]
        st.rerun()


_present_parts.fullscreen_style()
_present_parts.controls(ss["slide"], slides)

if ss["slide"] == 0:
    st.header(_ui.md(workshop.title))
    # The controls above already say the phase, on every slide.
    _ui.workshop_caption(workshop, with_title=False, with_phase=False)
    _present_parts.join_screen(links.view_link(_ui.base_url(), workshop.view_code))
elif ss["slide"] == 1:
    st.header(_ui.tr("progress.title"))
    _progress_parts.grid(engine, workshop, version, big=True)
else:
    entry = ranked[ss["slide"] - FIRST_THEME]
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
