"""A breakout group's recommendations: propose them per theme and level, follow their status."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import time
import uuid

import streamlit as st

from models import i18n, phases, recommendations, views, workshops
from models.errors import DomainError
from models.recommendations import RecommendationInput
from models.schema import Recommendation, RecommendationStatus
from pages import _live, _recommend_parts, _ui

FIELDS = ("text", "owner", "timeframe")
DOUBLE_SUBMIT_WINDOW = 10.0  # seconds in which an identical submit is a double click

who = _ui.guard("group_recommend")
engine = _ui.engine()
workshop, version = _ui.current()
group = workshops.get_group(engine, who.group_id)  # type: ignore[arg-type]
ranked = views.ranked(engine, workshop.id, version)  # type: ignore[arg-type]
titles = {r.theme.id: f"{r.rank}. {r.theme.title}" for r in ranked}
level_names = i18n.choices(_ui.lang(), "level")
priority_names = {int(k): v for k, v in i18n.choices(_ui.lang(), "recommend.priority").items()}
status_names = i18n.choices(_ui.lang(), "recommend.status")
open_to_propose = phases.allows(workshop.phase, "propose_recommendation")
ss = st.session_state


def _input(prefix: str) -> RecommendationInput:
    return RecommendationInput(
        level=ss[f"{prefix}level"],
        priority=ss[f"{prefix}priority"],
        **{name: ss.get(f"{prefix}{name}", "") for name in FIELDS},
    )


def _propose() -> None:
    data, theme_id = _input("grp_rec_"), ss["grp_rec_theme"]
    fingerprint = (theme_id, data.model_dump_json())
    last = ss.get("grp_rec_last")
    if last and last[0] == fingerprint and time.monotonic() - last[1] < DOUBLE_SUBMIT_WINDOW:
        return  # the second click of a double click
    try:
        recommendations.add_recommendation(engine, identity=who, theme_id=theme_id, data=data)
    except DomainError as error:
        ss["grp_rec_error"] = error  # the fields keep what was typed
        return
    ss["grp_rec_last"] = (fingerprint, time.monotonic())
    ss["grp_rec_saved"] = uuid.uuid4().hex  # tells the browser to drop its draft copy
    _ui.flash(_ui.tr("recommend.proposed"))
    for name in FIELDS:
        ss[f"grp_rec_{name}"] = ""


def _start_edit(rec: Recommendation) -> None:
    ss["grp_rec_editing"] = rec.id
    for name in ("level", "priority", *FIELDS):
        ss[f"grp_rec_edit{rec.id}_{name}"] = getattr(rec, name)


def _save_edit(rec_id: int) -> None:
    data = _input(f"grp_rec_edit{rec_id}_")
    try:
        recommendations.edit_recommendation(
            engine, identity=who, recommendation_id=rec_id, data=data
        )
    except DomainError as error:
        ss["grp_rec_edit_error"] = error
        return
    ss.pop("grp_rec_editing", None)
    _ui.flash(_ui.tr("recommend.saved"))


def _show(rec: Recommendation) -> None:
    with st.container(border=True, key=f"grp_rec_{rec.id}"):
        if ss.get("grp_rec_editing") == rec.id:
            with st.form(f"grp_rec_edit_form_{rec.id}"):
                _recommend_parts.fields(lambda name: f"grp_rec_edit{rec.id}_{name}")
                left, right = st.columns(2)
                left.form_submit_button(
                    _ui.tr("action.save"), type="primary", on_click=_save_edit, args=(rec.id,)
                )
                right.form_submit_button(
                    _ui.tr("action.cancel"), on_click=ss.pop, args=("grp_rec_editing",)
                )
            return
        st.text(rec.text)
        details = [
            _ui.md(titles.get(rec.theme_id, "")),
            level_names.get(rec.level, rec.level),
            f"{_ui.tr('field.priority')}: {priority_names.get(rec.priority, rec.priority)}",
            *(
                f"{_ui.tr(f'field.{name}')}: {_ui.md(getattr(rec, name))}"
                for name in ("owner", "timeframe")
                if getattr(rec, name)
            ),
            f"**{status_names.get(rec.status, rec.status)}**",
        ]
        st.caption(" · ".join(part for part in details if part))
        if open_to_propose and rec.status == RecommendationStatus.PROPOSED:
            st.button(
                _ui.tr("action.edit"),
                key=f"grp_rec_edit_{rec.id}",
                on_click=_start_edit,
                args=(rec,),
            )


st.title(_ui.tr("recommend.group_title"))
st.caption(f"{_ui.md(group.name)} · {_ui.md(workshop.title)}")
_ui.show_flash()
mine = recommendations.proposed_by_group(engine, group.id)  # type: ignore[arg-type]
entry, listing = st.columns([5, 6], gap="large")

with entry:
    st.subheader(_ui.tr("recommend.new_group"))
    if not titles:
        st.info(_ui.tr("recommend.no_themes_group"))
    else:
        # As on the issue page: the form stays when the phase closes (the browser keeps
        # the typing), and the browser holds a copy of the text until it is stored.
        _live.draft(
            _live.draft_key(workshop.id, group.id) + ":recommend",  # type: ignore[arg-type]
            "grp_rec_",
            ("text",),
            max_chars=recommendations.MAX_TEXT,
            cleared=ss.pop("grp_rec_saved", None),
        )
        if not open_to_propose:
            st.info(
                _ui.tr("recommend.closed", phase=_ui.tr(f"phase.{workshop.phase}"))
                + " "
                + _ui.tr("recommend.draft_kept"),
                icon=":material/edit_off:",
            )
        if error := ss.pop("grp_rec_error", None):
            _ui.show_error(error)
        with st.form("grp_rec_form"):
            st.selectbox(
                _ui.tr("recommend.theme"), list(titles), format_func=titles.get, key="grp_rec_theme"
            )
            _recommend_parts.fields(lambda name: f"grp_rec_{name}")
            st.form_submit_button(
                _ui.tr("recommend.propose"),
                type="primary",
                on_click=_propose,
                width="stretch",
                disabled=not open_to_propose,
            )

with listing:
    st.subheader(_ui.tr("recommend.ours", count=len(mine)))
    if error := ss.pop("grp_rec_edit_error", None):
        _ui.show_error(error)
    if not mine:
        st.caption(_ui.tr("recommend.none"))
    for rec in mine:
        _show(rec)
