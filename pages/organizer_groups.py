"""The organizer's lists of breakout groups and domains: add, rename, reorder, remove."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
from collections.abc import Callable
from typing import Any

import streamlit as st

from models import workshops
from models.errors import DomainError
from pages import _ui

who = _ui.guard("organizer_groups")
engine = _ui.engine()
workshop = _ui.workshop()
ss = st.session_state


def _run(command: Callable[..., Any], **kwargs: Any) -> bool:
    """Run a command from a widget callback; its error is shown on the next render."""
    try:
        command(engine, actor=who.actor, **kwargs)
    except DomainError as error:
        ss["groups_error"] = error
        return False
    return True


def _rename_group(group_id: int) -> None:
    if not _run(workshops.rename_group, group_id=group_id, name=ss[f"group_name_{group_id}"]):
        ss[f"group_name_{group_id}"] = workshops.get_group(engine, group_id).name


def _rename_domain(domain_id: int) -> None:
    ok = _run(
        workshops.rename_domain,
        domain_id=domain_id,
        name=ss[f"domain_name_{domain_id}"],
        name_en=ss[f"domain_en_{domain_id}"],
    )
    if not ok:  # put back what is stored, so the field never shows an unsaved name
        stored = {d.id: d for d in workshops.list_domains(engine, workshop.id)}[domain_id]  # type: ignore[arg-type]
        ss[f"domain_name_{domain_id}"], ss[f"domain_en_{domain_id}"] = stored.name, stored.name_en


def _add_group() -> None:
    if _run(workshops.add_group, workshop_id=workshop.id, name=ss["add_group_name"]):
        ss["add_group_name"] = ""


def _add_domain() -> None:
    ok = _run(
        workshops.add_domain,
        workshop_id=workshop.id,
        name=ss["add_domain_name"],
        name_en=ss["add_domain_en"],
    )
    if ok:
        ss["add_domain_name"] = ss["add_domain_en"] = ""


def _icon_label(action: str, name: str) -> str:
    """An icon-only button's name for screen readers, saying which row it acts on (the
    tooltip, help=, is no name); app.css draws it off-screen (section a11y: audit)."""
    return f"{_ui.tr(action)}: {_ui.md(name)}"


def _order_buttons(columns: list[Any], kind: str, row_id: int, name: str) -> None:
    for column, offset, icon in (
        (columns[0], -1, "arrow_upward"),
        (columns[1], 1, "arrow_downward"),
    ):
        column.button(
            _icon_label("action.up" if offset < 0 else "action.down", name),
            icon=f":material/{icon}:",
            key=f"{kind}_move_{offset}_{row_id}",
            help=_ui.tr("action.up" if offset < 0 else "action.down"),
            on_click=_run,
            args=(workshops.move,),
            kwargs={"kind": kind, "row_id": row_id, "offset": offset},
        )


st.title(_ui.tr("groups.title"))
st.caption(_ui.md(workshop.title))
if error := ss.pop("groups_error", None):
    _ui.show_error(error)

groups_tab, domains_tab = st.tabs([_ui.tr("groups.groups"), _ui.tr("groups.domains")])

with groups_tab:
    groups = workshops.list_groups(engine, workshop.id)  # type: ignore[arg-type]
    st.caption(_ui.tr("groups.count", count=len(groups)))
    for group in groups:
        cols = st.columns([6, 1, 1, 2, 2, 1], vertical_alignment="center")
        ss.setdefault(f"group_name_{group.id}", group.name)
        cols[0].text_input(
            _ui.tr("field.group_name"),
            key=f"group_name_{group.id}",
            label_visibility="collapsed",
            on_change=_rename_group,
            args=(group.id,),
        )
        _order_buttons(cols[1:3], "group", group.id, group.name)  # type: ignore[arg-type]
        cols[3].code(group.join_code, language=None)
        cols[4].button(
            _ui.tr("groups.regenerate"),
            key=f"group_code_{group.id}",
            on_click=_run,
            args=(workshops.regenerate_code,),
            kwargs={"group_id": group.id},
        )
        cols[5].button(
            _icon_label("action.remove", group.name),
            icon=":material/delete:",
            key=f"group_remove_{group.id}",
            help=_ui.tr("action.remove"),
            on_click=_run,
            args=(workshops.remove_group,),
            kwargs={"group_id": group.id},
        )
    with st.form("add_group"):
        st.text_input(_ui.tr("groups.new_group"), key="add_group_name")
        st.form_submit_button(_ui.tr("action.add"), on_click=_add_group)

with domains_tab:
    domains = workshops.list_domains(engine, workshop.id)  # type: ignore[arg-type]
    st.caption(_ui.tr("groups.domain_count", count=len(domains)))
    for domain in domains:
        cols = st.columns([4, 4, 1, 1, 1], vertical_alignment="center")
        ss.setdefault(f"domain_name_{domain.id}", domain.name)
        ss.setdefault(f"domain_en_{domain.id}", domain.name_en)
        cols[0].text_input(
            _ui.tr("field.domain_name"),
            key=f"domain_name_{domain.id}",
            label_visibility="collapsed",
            on_change=_rename_domain,
            args=(domain.id,),
        )
        cols[1].text_input(
            _ui.tr("field.domain_name_en"),
            key=f"domain_en_{domain.id}",
            label_visibility="collapsed",
            on_change=_rename_domain,
            args=(domain.id,),
        )
        _order_buttons(cols[2:4], "domain", domain.id, domain.name)  # type: ignore[arg-type]
        cols[4].button(
            _icon_label("action.remove", domain.name),
            icon=":material/delete:",
            key=f"domain_remove_{domain.id}",
            help=_ui.tr("action.remove"),
            on_click=_run,
            args=(workshops.remove_domain,),
            kwargs={"domain_id": domain.id},
        )
    with st.form("add_domain"):
        left, right = st.columns(2)
        left.text_input(_ui.tr("groups.new_domain"), key="add_domain_name")
        right.text_input(_ui.tr("groups.new_domain_en"), key="add_domain_en")
        st.form_submit_button(_ui.tr("action.add"), on_click=_add_domain)
