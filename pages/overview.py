"""The live dashboard for the room: charts that follow every change within seconds."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import streamlit as st

from models import dashboard
from pages import _chart_parts, _ui
from pages import _live as live_room

who = _ui.guard("overview")
engine = _ui.engine()
workshop = _ui.workshop()
lang = _ui.lang()

st.header(_ui.md(workshop.title))
_ui.workshop_caption(workshop, with_title=False)
_ui.countdown(workshop)
_chart_parts.as_tables_switch()


@st.fragment(run_every=dashboard.REFRESH_SECONDS)
def _live() -> None:
    """A refresh reruns only this: the figures are shared by every tab in the process, so
    a tab's cost is sending them (most tabs never wait for a rebuild, see dashboard.latest)."""
    live_room.check()  # the phase, reveal or countdown moved on: redraw the whole page
    now = dashboard.latest(engine, workshop.id, lang)  # type: ignore[arg-type]
    # One horizontal container, not four columns: each block is one more message per
    # refresh to every open tab, and per-message cost is most of a refresh's cost.
    with st.container(horizontal=True, horizontal_alignment="distribute"):
        st.metric(_ui.tr("overview.issues"), now.summary.issue_count)
        st.metric(
            _ui.tr("overview.groups_active"),
            f"{now.summary.active_groups} / {now.summary.group_count}",
        )
        st.metric(_ui.tr("dashboard.themes"), now.theme_count)
        st.metric(_ui.tr("dashboard.votes"), now.votes_cast)
    # A row per pair, not two columns of three: a chart or caption taller than its
    # neighbour pushed every chart below it out of line with the other column.
    for pair in dashboard.PAIRS:
        for where, name in zip(st.columns(2), pair, strict=True):
            _chart_parts.chart(where, name, now.figures[name], now.tables[name])
    for name in dashboard.CHARTS:
        if name in dashboard.WIDE:
            _chart_parts.chart(st, name, now.figures[name], now.tables[name])


_live()
