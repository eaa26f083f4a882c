"""The room's progress as one compact grid, on the facilitate page and the projector.

One row per group: issues per domain ("·" where none yet), total, votes used/budget and
recommendations proposed. A plain HTML table on both: a screen reader reads it cell by
cell, its text keeps the page's contrast (st.dataframe's canvas drew a pinned group
column at 4.46:1, under AA's 4.5:1, where no audit could see it), and on a phone it
scrolls sideways inside its box with the group column held in place. The projector's
(`big`) is set in large type, to be read from the back of the room.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from models import progress, views
from models.db import Engine
from models.schema import Workshop
from pages import _ui


def grid(engine: Engine, workshop: Workshop, version: views.Version, *, big: bool = False) -> None:
    found = progress.at_version(engine, workshop.id, version)  # type: ignore[arg-type]
    total = len(found.groups)
    st.caption(_ui.tr("progress.summary", started=found.started, voted=found.voted, total=total))
    if not found.groups:
        return
    labels = {d_id: _ui.domain_label(name, name_en) for d_id, name, name_en in found.domains}
    table = pd.DataFrame(found.rows(labels)).rename(
        columns={name: _ui.tr(f"progress.col_{name}") for name in _FIXED}
    )
    st.html(_html_table(table, big=big, name=_ui.tr("progress.title")))


_FIXED = ("group", "total", "votes", "recommendations")
_TABLE_STYLE = (
    # Separate borders: collapsed ones stay behind when a held (sticky) cell moves.
    "<style>.rt-progress{border-collapse:separate;border-spacing:0;width:100%;font-size:1rem;"
    "line-height:1.5}"
    ".rt-progress.rt-big{font-size:1.15rem;line-height:1.7}"
    ".rt-progress th,.rt-progress td{padding:.05rem .6rem;border-bottom:1px solid #ddd;"
    "text-align:center}.rt-progress th{font-weight:600}"
    ".rt-progress th:first-child,.rt-progress td:first-child{text-align:left;"
    "white-space:nowrap;position:sticky;left:0;z-index:1;background:#fff}"
    # On a phone a group's name wraps, so the held column leaves room for the counts.
    "@media (max-width:640px){.rt-progress td:first-child{white-space:normal;min-width:7em}}"
    "</style>"
)


def _html_table(table: pd.DataFrame, *, big: bool, name: str) -> str:
    """The grid as a plain HTML table; every cell escaped (group names are user text).

    The box that scrolls it sideways on a phone takes the keyboard's focus and has a name:
    otherwise a keyboard could not scroll it (axe: scrollable-region-focusable).
    """
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    kind = "rt-progress rt-big" if big else "rt-progress"
    table_html = f'<table class="{kind}"><tr>{head}</tr>{body}</table>'
    box = f'role="region" aria-label="{html.escape(name)}" tabindex="0" style="overflow-x:auto"'
    return f"{_TABLE_STYLE}<div {box}>{table_html}</div>"
