"""The board's "sort the rest" section: every ungrouped issue proposed for its nearest
theme, reviewed per theme and per issue, applied as one undoable action (the logic is
models.proposals; shared helpers and the proposal's life are in `_suggest_parts`)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from models import phases, proposals, suggest, themes, views
from models.access import Identity
from models.db import Engine
from models.schema import Workshop
from pages import _ui
from pages._suggest_parts import Refused, attempt, forget, made, model_label
from pages._suggest_parts import dismiss as dismiss_proposal

ss = st.session_state
_SORT_KEYS = ("sort_theme_", "sort_rows_", "sort_ids_", "sort_themes_")


def _sort_compute(engine: Engine, actor: str, workshop_id: int) -> None:
    attempt(proposals.propose_sort, engine, actor=actor, workshop_id=workshop_id)


def _taken(row: int, edits: dict[Any, dict[str, Any]]) -> bool:
    """Whether the editor's row is still ticked (its edit state keys rows by number)."""
    change = edits.get(row, edits.get(str(row), {}))
    return bool(change.get("take", True))


def sort_choice(pid: int) -> dict[int, int]:
    """The issues this session has ticked for proposal `pid`: {issue id: theme id}.

    Read from the widgets' state, as last drawn (their rows are kept with them), so a
    button's callback sees exactly what the facilitator saw and ticked.
    """
    moves: dict[int, int] = {}
    for theme_id in ss.get(f"sort_themes_{pid}", []):
        if not ss.get(f"sort_theme_{pid}_{theme_id}", True):
            continue
        edits = (ss.get(f"sort_rows_{pid}_{theme_id}") or {}).get("edited_rows", {})
        for row, issue_id in enumerate(ss.get(f"sort_ids_{pid}_{theme_id}", [])):
            if _taken(row, edits):
                moves[issue_id] = theme_id
    return moves


def _apply(engine: Engine, actor: str, workshop_id: int, pid: int) -> None:
    moves = sort_choice(pid)
    moved = attempt(
        proposals.apply_sort,
        engine, actor=actor, workshop_id=workshop_id, proposal_id=pid, moves=moves,
    )  # fmt: skip
    if isinstance(moved, Refused):
        return
    forget(_SORT_KEYS, None)
    _ui.flash(_ui.tr("suggest.sort.applied", count=moved, themes=len(set(moves.values()))))


def _sort_all(pid: int, value: bool) -> None:
    """Tick (or untick) every theme; ticking all also puts back every issue's tick."""
    for theme_id in ss.get(f"sort_themes_{pid}", []):
        ss[f"sort_theme_{pid}_{theme_id}"] = value
        if value:
            ss.pop(f"sort_rows_{pid}_{theme_id}", None)


def sort_panel(
    engine: Engine,
    who: Identity,
    workshop: Workshop,
    version: views.Version,
    board: themes.Board,
    groups: dict[int, str],
) -> None:
    """ "Sort the rest": every ungrouped issue proposed for its nearest theme, reviewed here."""
    stored = proposals.current(engine, workshop.id, version).get(proposals.SORT)  # type: ignore[arg-type]
    forget(_SORT_KEYS, stored.id if stored else None)
    grouping = phases.allows(workshop.phase, "group_themes")
    possible = proposals.can_sort(board)
    with st.container(border=True, key="sort_panel"):
        st.subheader(_ui.tr("suggest.sort.title"))
        st.caption(_ui.tr("suggest.sort.intro"))
        st.button(
            _ui.tr("suggest.sort.run"),
            key="sort_run",
            type="secondary" if stored else "primary",
            icon=":material/move_down:",
            disabled=not (grouping and possible),
            on_click=_sort_compute,
            args=(engine, who.actor, workshop.id),
        )
        if grouping and not possible:
            st.caption(_ui.tr("suggest.sort.needs"))
        if stored is not None:
            _sort_review(engine, who, workshop, stored, board, groups, grouping)


def _rows(
    placements: list[suggest.Placement], issues: dict[int, Any], groups: dict[int, str]
) -> pd.DataFrame:
    """One row per proposed issue: number, confidence (before the long text, so a narrow
    screen still shows it), group, statement."""
    return pd.DataFrame(
        {
            "no": [p.issue_id for p in placements],
            "confidence": [p.confidence for p in placements],
            "group": [groups.get(issues[p.issue_id].group_id, "") for p in placements],
            "statement": [issues[p.issue_id].statement for p in placements],
        }
    )


def _sort_review(
    engine: Engine,
    who: Identity,
    workshop: Workshop,
    stored: proposals.Stored,
    board: themes.Board,
    groups: dict[int, str],
    grouping: bool,
) -> None:
    pid = stored.id
    titles = {v.theme.id: v.theme.title for v in board.themes}
    ungrouped: dict[int, Any] = {i.id: i for i in board.ungrouped}  # type: ignore[misc]
    review = proposals.review_sort(stored, set(ungrouped), list(titles))  # type: ignore[arg-type]
    threshold = f"{stored.threshold:.0%}"
    st.caption(
        _ui.tr(
            "suggest.sort.summary",
            issues=review.proposed,
            themes=len(review.by_theme),
            unsure=len(review.unsure),
            threshold=threshold,
        )
        + f" · {_ui.tr('suggest.backend', backend=model_label(stored.backend))}"
    )
    st.caption(made(stored))
    if review.gone:
        st.warning(_ui.tr("suggest.proposal.gone", count=review.gone), icon=":material/history:")
    ss[f"sort_themes_{pid}"] = list(review.by_theme)
    config = {
        "take": st.column_config.CheckboxColumn(_ui.tr("suggest.take")),
        "no": st.column_config.NumberColumn(_ui.tr("board.col_no"), format="%d"),
        "group": st.column_config.TextColumn(_ui.tr("board.col_group")),
        "statement": st.column_config.TextColumn(_ui.tr("board.col_statement"), width="large"),
        "confidence": st.column_config.ProgressColumn(
            _ui.tr("suggest.sort.confidence"), format="percent", min_value=0.0, max_value=1.0
        ),
    }
    for theme_id, placements in review.by_theme.items():
        ids = [p.issue_id for p in placements]
        rows_key, ids_key = f"sort_rows_{pid}_{theme_id}", f"sort_ids_{pid}_{theme_id}"
        if ss.get(ids_key, ids) != ids:  # rows changed under the ticks: they'd point elsewhere
            ss.pop(rows_key, None)
        ss[ids_key] = ids
        theme_key = f"sort_theme_{pid}_{theme_id}"
        ss.setdefault(theme_key, True)
        with st.container(border=True, key=f"sort_card_{theme_id}"):
            st.checkbox(
                _ui.tr("suggest.sort.theme", title=_ui.md(titles[theme_id]), count=len(ids)),
                key=theme_key,
            )
            frame = _rows(placements, ungrouped, groups)
            frame.insert(0, "take", True)
            st.data_editor(
                frame,
                key=rows_key,
                hide_index=True,
                disabled=["no", "group", "statement", "confidence"],
                column_config=config,  # type: ignore[arg-type]
            )
    if review.unsure:
        with st.expander(
            _ui.tr("suggest.sort.unsure", count=len(review.unsure), threshold=threshold)
        ):
            st.dataframe(
                _rows(review.unsure, ungrouped, groups),
                hide_index=True,
                column_config={k: v for k, v in config.items() if k != "take"},  # type: ignore[arg-type]
            )
    chosen = sort_choice(pid)
    apply, every, nothing, dismiss = st.columns([3, 1, 1, 1])
    apply.button(
        _ui.tr("suggest.sort.apply", count=len(chosen)),
        key="sort_apply",
        type="primary",
        disabled=not chosen or not grouping,
        on_click=_apply,
        args=(engine, who.actor, workshop.id, pid),
    )
    every.button(_ui.tr("suggest.select_all"), key="sort_all", on_click=_sort_all, args=(pid, True))
    nothing.button(
        _ui.tr("suggest.select_none"), key="sort_nothing", on_click=_sort_all, args=(pid, False)
    )
    dismiss.button(
        _ui.tr("suggest.proposal.dismiss"),
        key="sort_dismiss",
        on_click=dismiss_proposal,
        args=(engine, who.actor, workshop.id, pid),
    )
