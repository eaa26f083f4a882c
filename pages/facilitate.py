"""The facilitator's control of the workshop: phase and countdown, reveal, undo, audit log."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import datetime as dt

import pandas as pd
import streamlit as st

from models import audit_log, phases, undo
from models.errors import DomainError
from models.schema import Phase, utcnow
from pages import _board_parts, _progress_parts, _staff, _ui

who = _staff.identity("facilitate")
engine = _ui.engine()
workshop, version = _ui.current()
order = list(Phase)

st.title(_ui.tr("facilitate.title"))
_ui.workshop_caption(workshop)
_ui.show_flash()
if error := st.session_state.pop("facilitate_error", None):
    _ui.show_error(error)
st.subheader(_ui.tr("facilitate.current", phase=_ui.tr(f"phase.{workshop.phase}")))
_ui.countdown(workshop)

# The choice starts at the current phase (also on coming back to this page, whose widgets'
# state Streamlit dropped meanwhile), and goes back to it whenever the phase moved on (a
# colleague, the CLI, the undo): a choice left on the old phase would send the workshop
# back with the next click. Not on a submit's own run, whose choice is what was sent.
current = Phase(workshop.phase)
if st.session_state.get("phase_drawn_for") != current or "phase_select" not in st.session_state:
    st.session_state["phase_select"] = current
    st.session_state["phase_drawn_for"] = current
with st.form("phase_form"):
    choice = st.radio(
        _ui.tr("facilitate.phase"),
        order,
        format_func=lambda p: f"{order.index(p) + 1}. {_ui.tr(f'phase.{p.value}')}",
        key="phase_select",
        horizontal=True,
    )
    minutes = st.number_input(
        _ui.tr("facilitate.minutes"), min_value=0, max_value=600, value=0, key="phase_minutes"
    )
    if st.form_submit_button(_ui.tr("facilitate.set_phase"), type="primary"):
        deadline = utcnow() + dt.timedelta(minutes=int(minutes)) if minutes else None
        try:
            phases.set_phase(
                engine, actor=who.actor, workshop_id=workshop.id, phase=choice, deadline=deadline
            )  # type: ignore[arg-type]
        except DomainError as error:
            _ui.show_error(error)
        else:
            _ui.flash(_ui.tr("facilitate.phase_set", phase=_ui.tr(f"phase.{choice.value}")))
            st.rerun()

reveal_key = "facilitate.conceal" if workshop.revealed else "facilitate.reveal"
st.caption(_ui.tr("facilitate.revealed" if workshop.revealed else "facilitate.silent"))
if st.button(_ui.tr(reveal_key), key="reveal_toggle"):
    phases.set_reveal(
        engine, actor=who.actor, workshop_id=workshop.id, revealed=not workshop.revealed
    )  # type: ignore[arg-type]
    st.rerun()

st.subheader(_ui.tr("progress.title"))
_progress_parts.grid(engine, workshop, version)

st.subheader(_ui.tr("facilitate.log"))
st.caption(_ui.tr("facilitate.you_are", who=_board_parts.actor_name(who.actor)))
undo_state = undo.state(engine, workshop.id, version, who.actor)  # type: ignore[arg-type]
nxt = undo_state.mine  # this session's own: a colleague's actions are theirs to undo
if st.button(
    _ui.tr("board.undo", action=_ui.tr(f"audit.{nxt.action}"))
    if nxt
    else _ui.tr("board.undo_none"),
    key="facilitate_undo",
    icon=":material/undo:",
    disabled=nxt is None,
):
    try:
        undo.undo_last(engine, actor=who.actor, workshop_id=workshop.id, mine_only=True)  # type: ignore[arg-type]
    except DomainError as error:
        st.session_state["facilitate_error"] = error
    else:
        _ui.flash(_ui.tr("board.undone"))
    st.rerun()
if undo_state.newest_is_someone_elses and undo_state.newest is not None:
    st.caption(
        _ui.tr(
            "board.undo_others",
            action=_ui.tr(f"audit.{undo_state.newest.action}"),
            who=_board_parts.actor_name(undo_state.newest.actor),
        )
    )

rows = audit_log.recent(engine, workshop.id, _ui.lang())  # type: ignore[arg-type]
st.dataframe(
    pd.DataFrame(rows).rename(columns=lambda c: _ui.tr(f"facilitate.col_{c}")),
    hide_index=True,
    key="audit_table",
)
