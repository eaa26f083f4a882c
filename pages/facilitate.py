"""The facilitator's control of the workshop: its phase (more tools arrive with later phases)."""

from __future__ import annotations

import streamlit as st

from models import phases
from models.errors import DomainError
from models.schema import Phase
from pages import _ui

who = _ui.guard("facilitate")
engine = _ui.engine()
workshop = _ui.workshop()

st.title(_ui.tr("facilitate.title"))
st.caption(_ui.md(workshop.title))
_ui.show_flash()
st.subheader(_ui.tr("facilitate.current", phase=_ui.tr(f"phase.{workshop.phase}")))

with st.form("phase_form"):
    choice = st.radio(
        _ui.tr("facilitate.phase"),
        list(Phase),
        index=list(Phase).index(Phase(workshop.phase)),
        format_func=lambda p: f"{list(Phase).index(p) + 1}. {_ui.tr(f'phase.{p.value}')}",
        key="phase_select",
    )
    if st.form_submit_button(_ui.tr("facilitate.set_phase"), type="primary"):
        try:
            phases.set_phase(engine, actor=who.actor, workshop_id=workshop.id, phase=choice)  # type: ignore[arg-type]
        except DomainError as error:
            _ui.show_error(error)
        else:
            _ui.flash(_ui.tr("facilitate.phase_set", phase=_ui.tr(f"phase.{choice.value}")))
            st.rerun()
