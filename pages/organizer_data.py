"""The organizer's import (CSV/XLSX, all-or-nothing) and export of a workshop's issues."""

from __future__ import annotations

import streamlit as st

from models import i18n, io_issues
from models.errors import DomainError
from pages import _ui

who = _ui.guard("organizer_data")
engine = _ui.engine()
workshop = _ui.workshop()

st.title(_ui.tr("data.title"))
_ui.workshop_caption(workshop)
_ui.show_flash()

st.subheader(_ui.tr("data.export"))
st.download_button(
    _ui.tr("action.download") + " CSV",
    data=lambda: io_issues.export_issues_csv(engine, workshop.id),  # built only on click
    file_name=f"{workshop.slug}-issues.csv",
    mime="text/csv",
    key="export_csv",
    icon=":material/download:",
)

st.subheader(_ui.tr("data.import"))
st.caption(_ui.tr("data.import_hint"))
upload = st.file_uploader(_ui.tr("data.import"), type=["csv", "xlsx"], key="import_file")
if upload is not None and st.button(_ui.tr("data.import_button"), type="primary", key="import_go"):
    try:
        table = io_issues.read_table(upload.getvalue(), upload.name)
        count = io_issues.import_issues(engine, actor=who.actor, workshop_id=workshop.id, df=table)  # type: ignore[arg-type]
    except io_issues.ImportRejected as rejected:
        _ui.show_error(rejected)
        for row_error in rejected.errors:
            st.text(io_issues.row_error_text(_ui.lang(), row_error))
    except DomainError as error:
        _ui.show_error(error)
    else:
        _ui.flash(i18n.t(_ui.lang(), "data.imported", count=count))
        st.rerun()
