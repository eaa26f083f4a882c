"""The organizer's data: downloads in every format, issue import with a preview and column
mapping (all rows or none), and restoring a workshop from a backup (all or nothing)."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import streamlit as st

from pages import _data_parts, _ui

who = _ui.guard("organizer_data")
engine = _ui.engine()
workshop = _ui.workshop()

st.title(_ui.tr("data.title"))
_ui.workshop_caption(workshop)
_ui.show_flash()

_data_parts.downloads(engine, workshop)
st.divider()
_data_parts.import_section(engine, workshop, who)
st.divider()
_data_parts.restore_section(engine, who)
