"""Pieces of the theme board page (pages/board.py), kept apart so the page reads top-down.

Named `_board_parts`, not `_board`: Streamlit infers URL paths from file names without
the underscore, and `_board` would clash with the board page itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from models import audit, themes, undo, views
from models.access import Identity
from models.db import Engine
from models.errors import DomainError
from models.schema import Issue, Workshop
from pages import _ui

ss = st.session_state


# What a successful command empties: the selection it acted on and what was typed for it.
_SELECTION_INPUTS = ("board_numbers",)
_NO_SELECTION = {"selection": {"rows": [], "columns": [], "cells": []}}


def _run(
    command: Callable[..., Any], done: str, /, *, clears: tuple[str, ...] = (), **kwargs: Any
) -> None:
    """A board command from a widget callback: flash on success, error on the next render.

    On success the table's ticks and the typed numbers are cleared (the rows they
    pointed at have moved), with the inputs in `clears`; a refusal keeps them to retry.
    """
    try:
        command(**kwargs)
    except DomainError as error:
        if error.key == "error.board.changed":  # name the colleague as people read it
            error = DomainError(error.key, who=actor_name(error.values["who"]))
            ss.pop("board_inputs", None)  # the user has now seen the change: retry may pass
        ss["board_error"] = error
        return
    _ui.flash(_ui.tr(done))
    if "issue_ids" in kwargs or "duplicate_ids" in kwargs:
        ss["board_table"] = _NO_SELECTION
        for key in (*_SELECTION_INPUTS, *clears):
            ss[key] = ""


def undo_bar(engine: Engine, who: Identity, workshop: Workshop, version: views.Version) -> None:
    """Undo this session's own newest action; say so when a colleague's is newer."""
    state = undo.state(engine, workshop.id, version, who.actor)  # type: ignore[arg-type]
    mine = state.mine
    label = (
        _ui.tr("board.undo", action=_ui.tr(f"audit.{mine.action}"))
        if mine
        else _ui.tr("board.undo_none")
    )
    st.button(
        label,
        key="board_undo",
        icon=":material/undo:",
        disabled=mine is None,
        on_click=_run,
        args=(undo.undo_last, "board.undone"),
        kwargs={
            "engine": engine,
            "actor": who.actor,
            "workshop_id": workshop.id,
            "mine_only": True,
        },
    )
    if state.newest_is_someone_elses:
        newest = state.newest
        st.caption(
            _ui.tr(
                "board.undo_others",
                action=_ui.tr(f"audit.{newest.action}"),  # type: ignore[union-attr]
                who=actor_name(newest.actor),  # type: ignore[union-attr]  # no user text
            )
        )


def actor_name(actor: str) -> str:
    """`ผู้ดำเนินการ #3fa2`: a staff actor as people read it."""
    role, label = audit.actor_role(actor), audit.actor_label(actor)
    name = _ui.tr(f"role.{role}")
    name = role if name == f"role.{role}" else name
    return f"{name} #{label}" if label else name


def keep_selection(shown_ids: list[int]) -> None:
    """Before the table is drawn: keep the ticks on the same issues when its rows changed.

    The table's selection is by row position. When the rows change under it (a filter,
    or a colleague's move shown on a rerun) the ticks would land on other issues; here
    they follow the issues instead, and drop those no longer shown.
    """
    previous = ss.get("board_shown_ids")
    table = ss.get("board_table")
    if previous is None or previous == shown_ids or not table:
        return
    rows = list(table["selection"]["rows"])
    if not rows:
        return
    picked = [previous[r] for r in rows if r < len(previous)]
    where = {number: index for index, number in enumerate(shown_ids)}
    ss["board_table"] = {
        "selection": {"rows": [where[n] for n in picked if n in where], "columns": [], "cells": []}
    }
    if dropped := [n for n in picked if n not in where]:
        ss["board_dropped"] = dropped  # said on the page: the selection shrank by itself


# Inputs a board action is built from (table ticks come through `selected_ids`).
_INPUTS = ("board_numbers", "board_new_title", "board_move_target", "board_hide_reason")
_CARD_INPUTS = ("theme_title_", "theme_desc_", "theme_merge_")


def built_at(version: views.Version) -> int:
    """The workshop version the user's current selection and typing were made at.

    It moves on only when those inputs change, not when the page is merely redrawn (the
    follow-the-room rerun): a colleague's change between picking issues and clicking
    "move" is then still caught (models.themes refuses with error.board.changed).
    """
    inputs = (
        tuple(selected_ids()),
        tuple(repr(ss.get(key)) for key in _INPUTS),
        tuple(
            sorted(
                (key, repr(value))
                for key, value in ss.items()
                if isinstance(key, str) and key.startswith(_CARD_INPUTS) and "_go_" not in key
            )
        ),
    )
    noted = ss.get("board_inputs")
    if noted is None or noted[0] != inputs:
        noted = ss["board_inputs"] = (inputs, version[0])
    return int(noted[1])


def remember_shown(shown: pd.DataFrame) -> None:
    """The issue numbers in the table as the user sees it, for the callbacks to read."""
    ss["board_shown_ids"] = [int(n) for n in shown["no"]]


def selected_ids() -> list[int]:
    """Issue numbers picked in the table plus those typed (as called out in the room).

    Read when a button's callback runs, so what was typed just before the click counts.
    """
    table = ss.get("board_table")
    rows = list(table["selection"]["rows"]) if table else []
    shown = ss.get("board_shown_ids", [])
    picked = [shown[r] for r in rows if r < len(shown)]
    typed = [int(n) for n in re.findall(r"\d+", ss.get("board_numbers", ""))]
    return list(dict.fromkeys(picked + typed))


def base(engine: Engine, who: Identity, workshop: Workshop, version: views.Version) -> dict:
    """Every board command's common arguments; `seen` lets it refuse on a changed board."""
    seen = built_at(version)
    return {"engine": engine, "actor": who.actor, "workshop_id": workshop.id, "seen": seen}


def _theme_placeholder(options: dict[int, str]) -> str:
    """What an empty theme select says: to choose one, or that there is none to choose (it
    said "no other theme yet" beside a list that held the theme just created)."""
    return _ui.tr("board.pick_theme" if options else "board.no_themes")


def selection_actions(base: dict[str, Any], titles: dict[int, str], closed: bool) -> None:
    """The actions on the selected issues; `closed` (grouping not allowed now) disables them."""
    st.text_input(_ui.tr("board.numbers"), key="board_numbers", placeholder="12, 15, 18")
    now = selected_ids()
    st.caption(_ui.tr("board.selected", count=len(now), numbers=", ".join(map(str, now))))
    new, move, other = st.columns([3, 3, 2])
    new.text_input(_ui.tr("board.new_title"), key="board_new_title")
    new.button(
        _ui.tr("board.create"),
        key="board_create",
        type="primary",
        disabled=closed,
        on_click=lambda: _run(
            themes.create_theme,
            "board.created",
            **base,
            title=ss["board_new_title"],
            issue_ids=selected_ids(),
            clears=("board_new_title",),
        ),
    )
    target = move.selectbox(
        _ui.tr("board.move_to"),
        list(titles),
        format_func=titles.get,
        key="board_move_target",
        placeholder=_theme_placeholder(titles),
    )
    move.button(
        _ui.tr("board.move"),
        key="board_move",
        disabled=closed or target is None,
        on_click=lambda: _run(
            themes.move_issues, "board.moved", **base, issue_ids=selected_ids(), theme_id=target
        ),
    )
    other.button(
        _ui.tr("board.ungroup"),
        key="board_ungroup",
        disabled=closed,
        on_click=lambda: _run(
            themes.move_issues, "board.moved", **base, issue_ids=selected_ids(), theme_id=None
        ),
    )
    other.button(
        _ui.tr("board.duplicates"),
        key="board_duplicates",
        help=_ui.tr("board.duplicates_help"),
        disabled=closed,
        on_click=lambda: _run(
            themes.mark_duplicates,
            "board.marked",
            **base,
            original_id=(selected_ids() or [0])[0],
            duplicate_ids=selected_ids()[1:],
        ),
    )
    reason, hide = st.columns([3, 1], vertical_alignment="bottom")
    reason.text_input(_ui.tr("field.hide_reason"), key="board_hide_reason")
    hide.button(
        _ui.tr("board.hide"),
        key="board_hide",
        on_click=lambda: _run(
            themes.hide_issues,
            "board.hidden_done",
            **base,
            issue_ids=selected_ids(),
            reason=ss["board_hide_reason"],
            clears=("board_hide_reason",),
        ),
    )


def theme_card(
    base: dict[str, Any],
    view: themes.ThemeView,
    group_total: int,
    groups: dict[int, str],
    domains: dict[int, str],
    titles: dict[int, str],
    closed: bool,
) -> None:
    theme = view.theme
    raised = _ui.tr("board.raised_by", count=len(view.group_ids), total=group_total)
    card = st.expander(
        f"{_ui.md(theme.title)} · {view.issue_count} · {raised}",
        key=f"theme_card_{theme.id}",
        on_change="rerun",
    )
    if not card.open:  # a closed card's issues and widgets would still be built and sent
        return
    with card:
        st.caption(_ui.md(", ".join(groups[g] for g in sorted(view.group_ids) if g in groups)))
        lines = []
        for issue in view.issues:
            mark = (
                f" ({_ui.tr('board.duplicate_of', no=issue.duplicate_of_id)})"
                if issue.duplicate_of_id
                else ""
            )
            lines.append(
                f"#{issue.id} [{domains.get(issue.domain_id, '')}] {issue.statement}{mark}"
            )
        st.text("\n".join(lines))  # one element for the whole list, still plain text
        ss.setdefault(f"theme_title_{theme.id}", theme.title)
        ss.setdefault(f"theme_desc_{theme.id}", theme.description)
        st.text_input(_ui.tr("field.theme_title"), key=f"theme_title_{theme.id}")
        st.text_area(_ui.tr("field.theme_description"), key=f"theme_desc_{theme.id}", height=68)
        save, merge, split, delete = st.columns(4, vertical_alignment="bottom")
        save.button(
            _ui.tr("action.save"),
            key=f"theme_save_{theme.id}",
            disabled=closed,
            on_click=lambda: _run(
                themes.update_theme,
                "board.saved",
                **base,
                theme_id=theme.id,
                title=ss[f"theme_title_{theme.id}"],
                description=ss[f"theme_desc_{theme.id}"],
            ),
        )
        others = {k: v for k, v in titles.items() if k != theme.id}
        into = merge.selectbox(
            _ui.tr("board.merge_into"),
            list(others),
            format_func=others.get,
            key=f"theme_merge_{theme.id}",
            placeholder=_theme_placeholder(others),
        )
        merge.button(
            _ui.tr("board.merge"),
            key=f"theme_merge_go_{theme.id}",
            disabled=closed or into is None,
            on_click=lambda: _run(
                themes.merge_themes, "board.merged", **base, source_id=theme.id, target_id=into
            ),
        )
        split.button(
            _ui.tr("board.split"),
            key=f"theme_split_{theme.id}",
            help=_ui.tr("board.split_help"),
            disabled=closed,
            on_click=lambda: _run(
                themes.split_theme,
                "board.created",
                **base,
                theme_id=theme.id,
                issue_ids=selected_ids(),
                title=ss.get("board_new_title") or theme.title,
                clears=("board_new_title",),
            ),
        )
        delete.button(
            _ui.tr("action.delete"),
            key=f"theme_delete_{theme.id}",
            disabled=closed,
            on_click=lambda: _run(themes.delete_theme, "board.deleted", **base, theme_id=theme.id),
        )


def hidden_row(base: dict[str, Any], issue: Issue, groups: dict[int, str]) -> None:
    text, button = st.columns([5, 1], vertical_alignment="center")
    text.text(
        f"#{issue.id} {groups.get(issue.group_id, '')}: {issue.statement}\n→ {issue.hidden_reason}"
    )
    button.button(
        _ui.tr("board.unhide"),
        key=f"unhide_{issue.id}",
        on_click=lambda: _run(
            themes.unhide_issue,
            "board.unhidden",
            **{k: v for k, v in base.items() if k != "seen"},
            issue_id=issue.id,
        ),
    )
