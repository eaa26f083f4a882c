"""The organizer's workshop settings: edit the current workshop or create a new one."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import datetime as dt

import streamlit as st

from models import i18n, workshops
from models.errors import DomainError
from models.workshops import WorkshopInput
from pages import _ui

who = _ui.guard("organizer_workshop")
engine = _ui.engine()
workshop = _ui.workshop()


def _fields(prefix: str, current: WorkshopInput) -> WorkshopInput:
    """The workshop form's widgets; returns what they hold."""
    title = st.text_input(_ui.tr("field.title"), value=current.title, key=f"{prefix}title")
    venue = st.text_input(_ui.tr("field.venue"), value=current.venue, key=f"{prefix}venue")
    left, right = st.columns(2)
    starts = left.date_input(
        _ui.tr("workshop.starts_on"), value=current.starts_on, key=f"{prefix}starts"
    )
    ends = right.date_input(_ui.tr("workshop.ends_on"), value=current.ends_on, key=f"{prefix}ends")
    if _ui.lang() == "th" and starts and ends:  # the pickers are Gregorian; Thai papers are B.E.
        st.caption(_ui.tr("workshop.dates_be", dates=i18n.format_date_range(starts, ends, "th")))
    left, right = st.columns(2)
    budget = left.number_input(
        _ui.tr("workshop.vote_budget"),
        min_value=1,
        max_value=workshops.MAX_VOTE_BUDGET,
        value=current.vote_budget,
        key=f"{prefix}budget",
    )
    per_theme = right.number_input(
        _ui.tr("workshop.max_votes_per_theme"),
        min_value=1,
        max_value=workshops.MAX_VOTE_BUDGET,
        value=current.max_votes_per_theme,
        key=f"{prefix}per_theme",
    )
    groups_score = st.checkbox(
        _ui.tr("workshop.groups_score"), value=current.groups_score, key=f"{prefix}groups_score"
    )
    return WorkshopInput(
        title=title,
        venue=venue,
        starts_on=starts,
        ends_on=ends,
        vote_budget=int(budget),
        max_votes_per_theme=int(per_theme),
        groups_score=groups_score,
    )


st.title(_ui.tr("workshop.edit"))
_ui.show_flash()
_ui.workshop_caption(workshop, with_title=False)
st.caption(f"{_ui.tr('workshop.view_code')}: {workshop.view_code}")

# Containers, not forms: a form sends its dates only on submit, and the Buddhist-era date
# beside the pickers must follow what is picked.
with st.container(border=True):
    data = _fields("ws_", WorkshopInput.model_validate(workshop, from_attributes=True))
    if st.button(_ui.tr("action.save"), type="primary", key="ws_save"):
        try:
            workshops.update_workshop(engine, actor=who.actor, workshop_id=workshop.id, data=data)  # type: ignore[arg-type]
        except DomainError as error:
            _ui.show_error(error)
        else:
            _ui.flash(_ui.tr("workshop.saved"))
            st.rerun()

with st.expander(_ui.tr("workshop.create")):
    today = dt.date.today()
    blank = WorkshopInput(title="", starts_on=today, ends_on=today)
    slug = st.text_input(_ui.tr("workshop.slug"), key="new_ws_slug")
    data = _fields("new_ws_", blank)
    if st.button(_ui.tr("action.add"), key="new_ws_add"):
        try:
            created = workshops.create_workshop(
                engine,
                actor=who.actor,
                data=data,
                slug=slug.strip() or None,
                domains=[(d.name, d.name_en) for d in workshops.list_domains(engine, workshop.id)],  # type: ignore[arg-type]
            )
        except DomainError as error:
            _ui.show_error(error)
        else:
            st.session_state["switch_workshop"] = created.id  # picked up by the sidebar
            _ui.flash(_ui.tr("workshop.created"))
            st.rerun()
