"""The facilitator's recommendations: per ranked theme and level, add, edit, accept, reject,
delete."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import streamlit as st

from models import i18n, phases, recommendations, views, workshops
from models.errors import DomainError
from models.recommendations import RecommendationInput
from models.schema import Level, Recommendation, RecommendationStatus
from pages import _recommend_parts, _staff, _ui

FIELDS = ("text", "owner", "timeframe")
EDITED = ("level", "priority", *FIELDS)
DOUBLE_SUBMIT_WINDOW = 10.0  # seconds in which an identical submit is a double click
ACTIONS = {
    "accept": RecommendationStatus.ACCEPTED,
    "reject": RecommendationStatus.REJECTED,
    "delete": None,
}

who = _staff.identity("recommendations")
engine = _ui.engine()
workshop, version = _ui.current()
ranked = views.ranked(engine, workshop.id, version)  # type: ignore[arg-type]
group_names = {g.id: g.name for g in workshops.list_groups(engine, workshop.id)}  # type: ignore[arg-type]
by_theme = recommendations.by_theme_and_level(engine, workshop.id)  # type: ignore[arg-type]
level_names = i18n.choices(_ui.lang(), "level")
priority_names = {int(k): v for k, v in i18n.choices(_ui.lang(), "recommend.priority").items()}
status_names = i18n.choices(_ui.lang(), "recommend.status")
editable = phases.allows(workshop.phase, "edit_recommendation")
ss = st.session_state


def _run(panel: int, command: Callable[..., Any], done: str, /, **kwargs: Any) -> bool:
    """Run a command for this workshop; a refusal is shown in theme `panel`'s expander."""
    try:
        command(engine, identity=who, workshop_id=workshop.id, **kwargs)
    except DomainError as error:
        ss["rec_error"] = (panel, error)
        return False
    _ui.flash(_ui.tr(done))
    return True


def _add(theme_id: int) -> None:
    data = RecommendationInput(
        level=ss[f"rec_level_{theme_id}"],
        priority=ss[f"rec_priority_{theme_id}"],
        **{name: ss.get(f"rec_{name}_{theme_id}", "") for name in FIELDS},
    )
    fingerprint = (theme_id, data.model_dump_json())
    last = ss.get("rec_last")
    if last and last[0] == fingerprint and time.monotonic() - last[1] < DOUBLE_SUBMIT_WINDOW:
        return  # the second click of a double click
    add = recommendations.add_recommendation
    if _run(theme_id, add, "recommend.added", theme_id=theme_id, data=data):
        ss["rec_last"] = (fingerprint, time.monotonic())
        for name in FIELDS:
            ss[f"rec_{name}_{theme_id}"] = ""


def _act(rec: Recommendation, status: RecommendationStatus | None) -> None:
    """Accept or reject (a status), or delete (None)."""
    if status is None:
        command, done = recommendations.delete_recommendation, "recommend.deleted"
    else:
        command, done = partial(recommendations.set_status, status=status), f"recommend.{status}"
    _run(rec.theme_id, command, done, recommendation_id=rec.id)


def _edit_key(rec_id: int) -> Callable[[str], str]:
    return lambda name: f"rec_edit_{name}_{rec_id}"


def _start_edit(rec: Recommendation) -> None:
    """Open the recommendation's form, filled with what is stored now."""
    ss["rec_editing"] = rec.id
    for name in EDITED:
        ss[_edit_key(rec.id)(name)] = getattr(rec, name)


def _save_edit(rec: Recommendation) -> None:
    key = _edit_key(rec.id)
    data = RecommendationInput(**{name: ss[key(name)] for name in EDITED})
    edit = recommendations.edit_recommendation
    if _run(rec.theme_id, edit, "recommend.edited", recommendation_id=rec.id, data=data):
        ss.pop("rec_editing", None)


def _edit_form(rec: Recommendation) -> None:
    with st.form(f"rec_edit_form_{rec.id}"):
        _recommend_parts.fields(_edit_key(rec.id))
        save, cancel = st.columns(2)
        save.form_submit_button(
            _ui.tr("action.save"), type="primary", on_click=_save_edit, args=(rec,)
        )
        cancel.form_submit_button(
            _ui.tr("action.cancel"), on_click=lambda: ss.pop("rec_editing", None)
        )


def _show(rec: Recommendation) -> None:
    with st.container(border=True, key=f"rec_{rec.id}"):
        st.text(rec.text)
        details = [
            f"{_ui.tr('field.priority')}: {priority_names.get(rec.priority, rec.priority)}",
            f"**{status_names.get(rec.status, rec.status)}**",
        ]
        for name in ("owner", "timeframe"):
            if value := getattr(rec, name):
                details.append(f"{_ui.tr(f'field.{name}')}: {_ui.md(value)}")
        if rec.proposed_by_group_id is not None:
            group = group_names.get(rec.proposed_by_group_id, "")
            details.append(_ui.tr("recommend.proposed_by", group=_ui.md(group)))
        st.caption(" · ".join(details))
        if not editable:
            return
        if ss.get("rec_editing") == rec.id:
            _edit_form(rec)
            return
        *columns, last = st.columns(4)
        for column, (name, status) in zip(columns, ACTIONS.items(), strict=True):
            if status is None or rec.status != status:
                label = _ui.tr(f"recommend.{name}") if status else _ui.tr("action.delete")
                column.button(label, key=f"rec_{name}_{rec.id}", on_click=_act, args=(rec, status))
        last.button(
            _ui.tr("action.edit"), key=f"rec_edit_{rec.id}", on_click=_start_edit, args=(rec,)
        )


def _add_form(theme_id: int) -> None:
    with st.form(f"rec_form_{theme_id}"):
        st.markdown(f"**{_ui.tr('recommend.new')}**")
        _recommend_parts.fields(lambda name: f"rec_{name}_{theme_id}")
        st.form_submit_button(
            _ui.tr("recommend.submit"), type="primary", on_click=_add, args=(theme_id,)
        )


st.title(_ui.tr("recommend.title"))
_ui.workshop_caption(workshop)
_ui.show_flash()
if not editable:
    st.info(_ui.tr("recommend.read_only", phase=_ui.tr(f"phase.{workshop.phase}")))
if not ranked:
    st.info(_ui.tr("recommend.no_themes"))
error = ss.pop("rec_error", None)
if error and error[0] not in {placed.theme.id for placed in ranked}:
    _ui.show_error(error[1])  # its theme is gone (merged or deleted meanwhile)

for placed in ranked:
    theme_id: int = placed.theme.id  # type: ignore[assignment]
    levels = by_theme.get(theme_id, {})
    count = sum(len(recs) for recs in levels.values())
    label = (
        f"{_ui.tr('ranking.tie', rank=placed.rank) if placed.tied else placed.rank}. "
        f"{_ui.md(placed.theme.title)} · {_ui.tr('recommend.count', count=count)}"
    )
    with st.expander(label, key=f"rec_theme_{theme_id}"):
        if error and error[0] == theme_id:
            _ui.show_error(error[1])
        if not levels:
            st.caption(_ui.tr("recommend.none"))
        for level in Level:
            if recs := levels.get(level.value):
                st.markdown(f"**{level_names[level.value]}**")
                for rec in recs:
                    _show(rec)
        if editable:
            _add_form(theme_id)
