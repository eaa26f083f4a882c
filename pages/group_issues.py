"""A breakout group's screen: enter, edit and delete its own issues, per domain.

Fast with thousands of issues: the data comes from models.views (built once per change
of the workshop, shared by all groups), the group's issues are shown a page at a time,
and other groups' issues are one table rather than three elements each.
"""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import math
import time

import streamlit as st

from models import i18n, issues, phases, views, workshops
from models.errors import DomainError
from models.issues import IssueInput
from models.views import IssueRow
from pages import _hint_parts as _hints
from pages import _issue_parts, _live, _ui

FIELDS = ("statement", "cause", "impact", "fix")
TEXT_FIELDS = FIELDS  # the text areas whose typing the browser keeps as a draft
DOUBLE_SUBMIT_WINDOW = 10.0  # seconds in which an identical submit is a double click
PAGE_SIZE = 10  # a group's issues per screen: each one is several elements to draw
ALL = 0  # the domain filter's "all domains" choice (domain ids start at 1)

who = _ui.guard("group_issues")
engine = _ui.engine()
workshop, version = _ui.current()
all_groups, domains = views.parts(engine, workshop.id, version)  # type: ignore[arg-type]
group = next((g for g in all_groups if g.id == who.group_id), None) or workshops.get_group(
    engine,
    who.group_id,  # type: ignore[arg-type]
)  # the fallback raises NotFound for a group removed meanwhile
domain_names = {d.id: _ui.domain_label(d.name, d.name_en) for d in domains}
level_names = i18n.choices(_ui.lang(), "level")
open_for_entry = phases.allows(workshop.phase, "enter_issue")
ss = st.session_state


def _input(prefix: str) -> IssueInput:
    return IssueInput(
        domain_id=ss[f"{prefix}domain"],
        affected=ss.get(f"{prefix}affected") or [],
        **{name: ss.get(f"{prefix}{name}", "") for name in FIELDS},
    )


def _submit_new() -> None:
    data = _input("new_")
    fingerprint = hash(data.model_dump_json())
    last = ss.get("new_last")
    if last and last[0] == fingerprint and time.monotonic() - last[1] < DOUBLE_SUBMIT_WINDOW:
        return  # the second click of a double click
    try:
        saved = issues.add_issue(
            engine, identity=who, data=data, client_token=_ui.form_token("new")
        )
    except DomainError as error:
        ss["new_error"] = error  # the fields keep what was typed
        return
    _ui.renew_form_token("new")
    ss["new_last"] = (fingerprint, time.monotonic())
    ss["new_saved"] = saved.id
    ss["issue_page"] = 1  # the new issue is the newest: first on the first page
    for name in FIELDS:
        ss[f"new_{name}"] = ""
    ss["new_affected"] = []


def _submit_edit(issue_id: int) -> None:
    try:
        issues.edit_issue(engine, identity=who, issue_id=issue_id, data=_input(f"edit{issue_id}_"))
    except DomainError as error:
        ss["edit_error"] = error
        return
    ss.pop("editing", None)


def _start_edit(issue: IssueRow) -> None:
    ss["editing"] = issue.id
    prefix = f"edit{issue.id}_"
    ss[f"{prefix}domain"] = issue.domain_id
    ss[f"{prefix}affected"] = [level.value for level in issues.affected_levels(issue)]
    for name in FIELDS:
        ss[f"{prefix}{name}"] = getattr(issue, name)


def _delete(issue_id: int) -> None:
    try:
        issues.delete_issue(engine, identity=who, issue_id=issue_id)
    except DomainError as error:
        ss["edit_error"] = error
        return
    ss.pop("editing", None)
    ss["undo_delete"] = issue_id


def _undo_delete() -> None:
    try:
        issues.restore_issue(engine, identity=who, issue_id=ss.pop("undo_delete"))
    except DomainError as error:  # the phase moved on between the click and now
        ss["edit_error"] = error


def _show_issue(issue: IssueRow, editing: int | None, labels: dict[str, str]) -> None:
    with st.container(border=True, key=f"issue_{issue.id}"):
        if editing == issue.id:
            with st.form(f"edit_form_{issue.id}"):
                _issue_parts.issue_fields(f"edit{issue.id}_", domain_names, level_names)
                buttons = st.container(horizontal=True)
                buttons.form_submit_button(
                    _ui.tr("action.save"), type="primary", on_click=_submit_edit, args=(issue.id,)
                )
                buttons.form_submit_button(
                    _ui.tr("action.cancel"), on_click=ss.pop, args=("editing",)
                )
                buttons.form_submit_button(
                    _ui.tr("action.delete"), on_click=_delete, args=(issue.id,)
                )
            return
        _issue_parts.issue_body(issue, level_names, labels)
        _hints.show_similar(hints.get(issue.id, []), names)
        if open_for_entry:
            # One button per card (delete is in the editor, with undo): each card's widgets
            # are drawn again on every rerun of this busy page.
            st.button(
                labels["issue.manage"], key=f"edit_{issue.id}", on_click=_start_edit, args=(issue,)
            )


st.title(_ui.md(group.name))
st.caption(_ui.md(workshop.title))
_ui.countdown(workshop)

if not domains:
    st.warning(_ui.tr("issue.no_domains"))
    st.stop()

view = views.group_view(engine, workshop.id, group.id, workshop.revealed, version)  # type: ignore[arg-type]
mine, others, hints = view.mine, view.others, view.hints  # others: none before the reveal
counts = issues.count_by_domain(mine)  # type: ignore[arg-type]
names = {g.id: g.name for g in all_groups}
entry, listing = st.columns([5, 6], gap="large")

with entry:
    st.subheader(_ui.tr("issue.new"))
    saved_id = ss.pop("new_saved", None)
    # The form stays on screen when the phase closes entry (same keys, so the browser
    # keeps what was typed); the browser also keeps a copy until the server stores it.
    _live.draft(
        _live.draft_key(workshop.id, group.id),  # type: ignore[arg-type]
        "new_",
        TEXT_FIELDS,
        max_chars=issues.MAX_STATEMENT,
        cleared=saved_id,
    )
    if not open_for_entry:
        st.info(
            _ui.tr("issue.closed", phase=_ui.tr(f"phase.{workshop.phase}"))
            + " "
            + _ui.tr("issue.draft_kept"),
            icon=":material/edit_off:",
        )
    if error := ss.pop("new_error", None):
        _ui.show_error(error)
    if saved_id:
        st.success(_ui.tr("issue.saved"), icon=":material/check_circle:")
        _hints.show_similar(hints.get(saved_id, []), names)
    with st.form("new_issue"):
        _issue_parts.issue_fields("new_", domain_names, level_names)
        st.form_submit_button(
            _ui.tr("issue.submit"),
            type="primary",
            on_click=_submit_new,
            width="stretch",
            disabled=not open_for_entry,
        )

with listing:
    if workshop.revealed and open_for_entry:  # on top: beside the form while it is typed in
        _hints.typing_hints(
            engine,
            workshop.id,  # type: ignore[arg-type]
            group.id,  # type: ignore[arg-type]
            "new_statement",
            names,
            issues.MAX_STATEMENT,
        )
    st.subheader(_ui.tr("issue.ours", count=len(mine)))
    if error := ss.pop("edit_error", None):
        _ui.show_error(error)
    if "undo_delete" in ss and not open_for_entry:
        ss.pop("undo_delete")  # a group undoes its delete only while entry is open
    if "undo_delete" in ss:
        note, undo = st.columns([3, 1])
        note.info(_ui.tr("issue.deleted"))
        undo.button(_ui.tr("action.undo"), key="undo_delete_button", on_click=_undo_delete)
    choices = {ALL: _ui.tr("issue.all_domains", count=len(mine))} | {
        d.id: f"{domain_names[d.id]} ({counts.get(d.id, 0)})"  # type: ignore[index]
        for d in domains
    }
    # Sent again on every run: the labels carry counts, and when a save changes them the
    # browser's radio drops its choice unless the server restates it with the new labels.
    ss["issue_domain"] = ss.get("issue_domain") if ss.get("issue_domain") in choices else ALL
    chosen = st.radio(
        _ui.tr("field.domain"),
        list(choices),
        format_func=choices.get,
        key="issue_domain",
        horizontal=True,
        label_visibility="collapsed",
    )
    in_domain = [issue for issue in mine if chosen == ALL or issue.domain_id == chosen]
    pages = max(1, math.ceil(len(in_domain) / PAGE_SIZE))
    if pages > 1:
        if ss.get("issue_page") not in range(1, pages + 1):
            ss["issue_page"] = 1
        st.pills(_ui.tr("issue.page"), list(range(1, pages + 1)), key="issue_page")
    page = min(ss.get("issue_page") or 1, pages)
    if not in_domain:
        st.caption(_ui.tr("issue.none_yet"))
    labels = _issue_parts.body_labels() | {"issue.manage": _ui.tr("issue.manage")}
    for issue in in_domain[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        _show_issue(issue, ss.get("editing"), labels)

if others:
    box = st.expander(_ui.tr("issue.others", count=len(others)), key="others", on_change="rerun")
    if box.open:  # a closed expander's table would still be built and sent on every rerun
        table = views.others_table(
            engine,
            workshop.id,  # type: ignore[arg-type]
            group.id,  # type: ignore[arg-type]
            view,
            tuple(names.items()),  # type: ignore[arg-type]
            tuple(domain_names.items()),  # type: ignore[arg-type]
        )
        box.dataframe(
            table.rename(columns=lambda c: _ui.tr(f"field.{c}")),
            hide_index=True,
            height=400,
            column_config={_ui.tr("field.statement"): st.column_config.TextColumn(width="large")},
        )
