"""The room's progress as one compact grid, on the facilitate page and the projector.

One row per group: issues per domain ("·" where none yet), total, votes used/budget and
recommendations proposed. On the facilitator's screen a dataframe keeps 20+ groups
readable at 1366 px and scrolls sideways on a phone with the group column pinned; on the
projector (`big`) an HTML table in large type is read from the back of the room.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from models import progress, views
from models.db import Engine
from models.schema import Workshop
from pages import _ui


def grid(
    engine: Engine, workshop: Workshop, version: views.Version, *, key: str, big: bool = False
) -> None:
    found = progress.at_version(engine, workshop.id, version)  # type: ignore[arg-type]
    total = len(found.groups)
    st.caption(_ui.tr("progress.summary", started=found.started, voted=found.voted, total=total))
    if not found.groups:
        return
    labels = {d_id: _ui.domain_label(name, name_en) for d_id, name, name_en in found.domains}
    table = pd.DataFrame(found.rows(labels)).rename(
        columns={name: _ui.tr(f"progress.col_{name}") for name in _FIXED}
    )
    for label in labels.values():  # counts and "·" in one column: shown as text
        table[label] = table[label].astype(str)
    if big:
        st.html(_html_table(table))
        return
    st.dataframe(
        table,
        hide_index=True,
        key=key,
        height=min(38 + 35 * total, 760),  # every group without scrolling, up to ~20 rows
        column_config={
            _ui.tr("progress.col_group"): st.column_config.TextColumn(pinned=True),
            **{
                column: st.column_config.Column(alignment="center")
                for column in table.columns[1:]  # counts line up under their headers
            },
        },
    )


_FIXED = ("group", "total", "votes", "recommendations")
_TABLE_STYLE = (
    "<style>.rt-progress{border-collapse:collapse;width:100%;font-size:1.15rem;line-height:1.7}"
    ".rt-progress th,.rt-progress td{padding:.05rem .6rem;border-bottom:1px solid #ddd;"
    "text-align:center}.rt-progress th:first-child,.rt-progress td:first-child"
    "{text-align:left;white-space:nowrap}.rt-progress th{font-weight:600}</style>"
)


def _html_table(table: pd.DataFrame) -> str:
    """The grid as a plain HTML table; every cell escaped (group names are user text)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    table_html = f'<table class="rt-progress"><tr>{head}</tr>{body}</table>'
    return f'{_TABLE_STYLE}<div style="overflow-x:auto">{table_html}</div>'
