"""The live dashboard for the room: charts that follow every change within seconds."""

from __future__ import annotations

import streamlit as st

from models import dashboard
from pages import _ui

REFRESH_SECONDS = 3  # the room sees a change within this, plus one rerun

who = _ui.guard("overview")
engine = _ui.engine()
workshop = _ui.workshop()
lang = _ui.lang()
shown_version = dashboard.version(engine, workshop.id)  # type: ignore[arg-type]


@st.fragment(run_every=REFRESH_SECONDS)
def _watch() -> None:
    """Idle cost per tab: one indexed query every few seconds; a change reruns the page."""
    if dashboard.version(engine, workshop.id) != shown_version:  # type: ignore[arg-type]
        st.rerun()


st.header(_ui.md(workshop.title))
_ui.workshop_caption(workshop, with_title=False)
_ui.countdown(workshop)
now = dashboard.snapshot(engine, workshop.id, shown_version, lang)  # type: ignore[arg-type]

first, second, third, fourth = st.columns(4)
first.metric(_ui.tr("overview.issues"), now.summary.issue_count)
second.metric(
    _ui.tr("overview.groups_active"), f"{now.summary.active_groups} / {now.summary.group_count}"
)
third.metric(_ui.tr("dashboard.themes"), now.theme_count)
fourth.metric(_ui.tr("dashboard.votes"), now.votes_cast)

left, right = st.columns(2)
for index, name in enumerate(dashboard.CHARTS):
    column = left if index % 2 == 0 else right
    column.plotly_chart(
        now.figures[name], key=f"chart_{name}", config={"displaylogo": False}, theme=None
    )  # theme=None: keep the large, high-contrast styling of models/charts.py
_watch()
