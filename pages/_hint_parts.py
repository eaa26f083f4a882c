"""Duplicate hints on a group's issue page: other groups' statements close to ours."""

from __future__ import annotations

import streamlit as st

from models import suggest
from pages import _ui


def show_similar(similar: list[suggest.Similar], groups: dict[int, str]) -> None:
    if similar:
        items = "; ".join(
            f"{groups.get(s.issue.group_id, '')}: {s.issue.statement}" for s in similar
        )
        st.info(_ui.tr("suggest.similar", items=_ui.md(items)), icon=":material/content_copy:")
