"""A dashboard chart with its summary in words, or its data as a table (issue #14).

The summary (models/chart_tables.py) is the chart's accessible name (plotly_chart's
`alt`) and is shown under it as plain text; "show as tables" swaps every chart for a
real HTML table of the same data (st.table: read cell by cell by a screen reader, unlike
st.dataframe's canvas grid). Both come with the snapshot: nothing here queries.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from models.chart_tables import ChartTable
from pages import _ui

AS_TABLES = "charts_as_tables"  # session key of the page's "show as tables" switch


def as_tables_switch() -> bool:
    """The switch, drawn outside the live fragment: it costs the refresh nothing."""
    return st.toggle(_ui.tr("chart.as_tables"), key=AS_TABLES, help=_ui.tr("chart.as_tables_help"))


def chart(where: Any, name: str, figure: Any, table: ChartTable) -> None:
    """`figure` (or its table when the switch is on), then its summary."""
    if st.session_state.get(AS_TABLES):
        where.subheader(_ui.md(table.title), anchor=False)
        where.table(table.as_columns(), hide_index=True)
    else:
        # theme=None: keep the large, high-contrast styling of models/charts.py.
        where.plotly_chart(
            figure,
            key=f"chart_{name}",
            # No plotly toolbar: seven Tab stops per chart with English names, for zoom
            # and pan a projected dashboard does not need ("show as tables" reads it).
            config={"displayModeBar": False},
            theme=None,
            alt=table.alt_text,
        )
    where.caption(_ui.md(table.summary))
