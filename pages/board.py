"""The facilitator's theme board: filter all issues, select some, build themes from them."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import pandas as pd
import streamlit as st

from models import phases, views
from pages import _board_parts as _board
from pages import _sort_parts as _sort
from pages import _staff, _ui
from pages import _suggest_parts as _suggest

who = _staff.identity("board")
engine = _ui.engine()
workshop, version = _ui.current()
# Built once per change of the workshop (models.views), not on every click.
board = views.board(engine, workshop.id, version)  # type: ignore[arg-type]
domains = {
    d.id: _ui.domain_label(d.name, d.name_en)
    for d in views.parts(engine, workshop.id, version)[1]  # type: ignore[arg-type]
}
groups = {g.id: g.name for g in board.groups.values()}
titles = {v.theme.id: v.theme.title for v in board.themes}
ss = st.session_state

st.title(_ui.tr("board.title"))
_ui.workshop_caption(workshop)
_ui.show_flash()
if error := ss.pop("board_error", None):
    _ui.show_error(error)
_board.undo_bar(engine, who, workshop, version)
closed = not phases.allows(workshop.phase, "group_themes")
if closed:  # the buttons below are disabled: say why before anyone tries them
    st.info(_ui.tr("board.closed", phase=_ui.tr(f"phase.{workshop.phase}")))

# --- filters -----------------------------------------------------------------------------
left, middle, right, last = st.columns([2, 2, 3, 2])
domain_filter = left.multiselect(
    _ui.tr("field.domain"),
    list(domains),
    format_func=domains.get,
    key="board_domain",
    placeholder=_ui.tr("board.all"),
)
group_filter = middle.multiselect(
    _ui.tr("field.group"),
    list(groups),
    format_func=groups.get,
    key="board_group",
    placeholder=_ui.tr("board.all"),
)
search = right.text_input(_ui.tr("board.search"), key="board_search")
scope = last.radio(
    _ui.tr("board.scope"),
    ["ungrouped", "all"],
    format_func=lambda s: _ui.tr(f"board.scope_{s}"),
    key="board_scope",
    horizontal=True,
)

table = views.board_table(engine, workshop.id, version, tuple(domains.items()))  # type: ignore[arg-type]
mask = pd.Series(scope == "all", index=table.index) | ~table["_grouped"]
if domain_filter:
    mask &= table["_domain_id"].isin(domain_filter)
if group_filter:
    mask &= table["_group_id"].isin(group_filter)
if search.strip():
    mask &= table["statement"].str.contains(search.strip(), case=False, regex=False)
total = len(table) if scope == "all" else len(board.ungrouped)
shown = table[mask].reset_index(drop=True)

st.caption(_ui.tr("board.count", shown=len(shown), total=total))
_board.keep_selection([int(n) for n in shown["no"]])
if dropped := ss.pop("board_dropped", None):
    st.warning(_ui.tr("board.dropped", numbers=", ".join(map(str, dropped))))
base = _board.base(engine, who, workshop, version)  # after the selection is settled
st.dataframe(
    shown.drop(columns=["_group_id", "_domain_id", "_grouped"]).rename(
        columns=lambda c: _ui.tr(f"board.col_{c}")
    ),
    hide_index=True,
    on_select="rerun",
    selection_mode="multi-row",
    key="board_table",
    height=420,
    column_config={_ui.tr("board.col_statement"): st.column_config.TextColumn(width="large")},
)
_board.remember_shown(shown)

# --- actions on the selection, then the themes --------------------------------------------
with st.container(border=True):
    _board.selection_actions(base, titles, closed)
_suggest.panel(engine, who, workshop, version, board, groups, domains)
_sort.sort_panel(engine, who, workshop, version, board, groups)
st.subheader(_ui.tr("board.themes", count=len(board.themes)))
for view in board.themes:
    _board.theme_card(base, view, board.group_count, groups, domains, titles, closed)
if board.hidden:
    with st.expander(_ui.tr("board.hidden", count=len(board.hidden))):
        for issue in board.hidden:
            _board.hidden_row(base, issue, groups)
