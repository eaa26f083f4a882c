"""The room's progress as one compact grid, on the facilitate page and the projector.

One row per group: issues per domain ("·" where none yet), total, votes used/budget and
recommendations proposed. A dataframe keeps 20+ groups readable at 1920 px and scrolls
sideways on a phone with the group column pinned.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from models import progress, views
from models.db import Engine
from models.schema import Workshop
from pages import _ui


def grid(engine: Engine, workshop: Workshop, version: views.Version, *, key: str) -> None:
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
    st.dataframe(
        table,
        hide_index=True,
        key=key,
        height=min(38 + 35 * total, 760),  # every group without scrolling, up to ~20 rows
        column_config={_ui.tr("progress.col_group"): st.column_config.TextColumn(pinned=True)},
    )


_FIXED = ("group", "total", "votes", "recommendations")
