"""A read-only overview for viewers and staff: how many issues, from whom, in which domain."""

from __future__ import annotations

import streamlit as st

from models import charts, stats
from pages import _ui

who = _ui.guard("overview")
engine = _ui.engine()
workshop = _ui.workshop()
lang = _ui.lang()

st.title(_ui.tr("overview.title"))
_ui.workshop_caption(workshop)

summary = stats.summary(engine, workshop.id)  # type: ignore[arg-type]
left, right = st.columns(2)
left.metric(_ui.tr("overview.issues"), summary.issue_count)
right.metric(_ui.tr("overview.groups_active"), f"{summary.active_groups} / {summary.group_count}")
st.plotly_chart(charts.issues_by_domain(summary, lang), key="chart_by_domain")
st.plotly_chart(charts.issues_by_group(summary, lang), key="chart_by_group")
