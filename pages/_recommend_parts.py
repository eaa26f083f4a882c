"""The recommendation form's widgets, shared by the staff page and the groups' page."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from models import i18n
from pages import _ui


def fields(key: Callable[[str], str]) -> None:
    """Level, priority, text, owner and timeframe; `key(name)` names each widget."""
    level_names = i18n.choices(_ui.lang(), "level")
    priority_names = {int(k): v for k, v in i18n.choices(_ui.lang(), "recommend.priority").items()}
    left, right = st.columns(2)
    left.selectbox(
        _ui.tr("field.level"), list(level_names), format_func=level_names.get, key=key("level")
    )
    st.session_state.setdefault(key("priority"), 2)  # medium, unless chosen otherwise
    right.radio(
        _ui.tr("field.priority"),
        list(priority_names),
        format_func=priority_names.get,
        horizontal=True,
        key=key("priority"),
    )
    st.text_area(
        _ui.tr("field.recommendation") + " *",
        key=key("text"),
        placeholder=_ui.tr("recommend.text_hint"),
    )
    for column, name in zip(st.columns(2), ("owner", "timeframe"), strict=True):
        column.text_input(
            _ui.tr(f"field.{name}"),
            key=key(name),
            placeholder=_ui.tr(f"recommend.{name}_hint"),
        )
