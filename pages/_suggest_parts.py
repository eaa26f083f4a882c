"""Theme suggestions and duplicate hints on the pages (the logic is models.suggest).

`panel` sits on the facilitator's board (a group's hints are `_hint_parts`). Suggestions
live in the session until accepted or cleared, so the board's other reruns never recompute them.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from models import embeddings, phases, suggest, themes
from models.access import Identity
from models.db import Engine
from models.errors import DomainError
from models.schema import Workshop
from pages import _ui

ss = st.session_state
RESULT = "suggest_result"
AUTO = "auto"
_WIDGETS = ("suggest_take_", "suggest_title_", "suggest_members_")


def _forget() -> None:
    ss.pop(RESULT, None)
    for key in [k for k in ss if str(k).startswith(_WIDGETS)]:
        del ss[key]


def _compute(engine: Engine, workshop_id: int, groups: dict[int, str]) -> None:
    """Run the suggestion (button, or a changed control once suggestions are shown)."""
    choice = ss.get("suggest_k", AUTO)
    try:
        result = suggest.suggest_for_workshop(
            engine,
            workshop_id,
            k=None if choice == AUTO else int(choice),
            within_domain=bool(ss.get("suggest_within")),
        )
        pairs = suggest.duplicates_for_workshop(engine, workshop_id)
    except DomainError as error:
        ss["board_error"] = error
        return
    board = themes.board(engine, workshop_id)
    everything = board.ungrouped + [i for v in board.themes for i in v.issues]
    _forget()
    ss[RESULT] = {
        "result": result,
        "texts": {i.id: f"{groups.get(i.group_id, '')}: {i.statement}" for i in everything},
        "pairs": [(p.first.id, p.second.id, p.score) for p in pairs],
    }


def _recompute(engine: Engine, workshop_id: int, groups: dict[int, str]) -> None:
    if RESULT in ss:
        _compute(engine, workshop_id, groups)


def _accept(engine: Engine, actor: str, workshop_id: int) -> None:
    if RESULT not in ss:  # a second click after the first one accepted them
        return
    result: suggest.Suggestions = ss[RESULT]["result"]
    accepted = [
        suggest.Accepted(
            ss.get(f"suggest_title_{n}", theme.label), ss.get(f"suggest_members_{n}", [])
        )
        for n, theme in enumerate(result.themes)
        if ss.get(f"suggest_take_{n}")
    ]
    try:
        created = suggest.accept(engine, actor=actor, workshop_id=workshop_id, accepted=accepted)
    except DomainError as error:
        ss["board_error"] = error
        return
    _forget()
    _ui.flash(_ui.tr("suggest.accepted", count=len(created)))


def _pick_all(count: int, value: bool) -> None:
    for n in range(count):
        ss[f"suggest_take_{n}"] = value


def _mark(engine: Engine, actor: str, workshop_id: int, first: int, second: int) -> None:
    try:
        themes.mark_duplicates(
            engine, actor=actor, workshop_id=workshop_id, original_id=first, duplicate_ids=[second]
        )
    except DomainError as error:
        ss["board_error"] = error
        return
    stored = ss.get(RESULT)
    if stored:
        stored["pairs"] = [p for p in stored["pairs"] if p[1] != second]
    _ui.flash(_ui.tr("suggest.marked"))


def panel(
    engine: Engine,
    who: Identity,
    workshop: Workshop,
    pending: int,
    groups: dict[int, str],
    domains: dict[int, str],
) -> None:
    """The board's "suggest themes" section: controls, suggestions, likely duplicates."""
    stored = ss.get(RESULT)
    args: dict[str, Any] = {"args": (engine, workshop.id, groups)}
    with st.expander(
        _ui.tr("suggest.title"), expanded=stored is not None, icon=":material/auto_awesome:"
    ):
        st.caption(_ui.tr("suggest.intro"))
        _model_line(engine)
        left, middle, right = st.columns([3, 2, 2], vertical_alignment="bottom")
        options = [AUTO, *range(2, max(2, min(suggest.MAX_THEMES, pending)) + 1)]
        if ss.get("suggest_k") not in options:
            ss["suggest_k"] = AUTO
        left.select_slider(
            _ui.tr("suggest.granularity"),
            options,
            format_func=lambda v: _ui.tr("suggest.auto") if v == AUTO else str(v),
            key="suggest_k",
            on_change=_recompute,
            **args,
        )
        middle.toggle(
            _ui.tr("suggest.within_domain"),
            key="suggest_within",
            help=_ui.tr("suggest.within_domain_help"),
            on_change=_recompute,
            **args,
        )
        right.button(
            _ui.tr("suggest.run"),
            key="suggest_run",
            type="primary",
            icon=":material/auto_awesome:",
            on_click=_compute,
            **args,
        )
        if stored is None:
            return
        _suggestions(engine, who, workshop, stored, domains)
        _duplicates(engine, who, workshop, stored)


def _label(backend: str) -> str:
    return _ui.tr("model.panel_gemma") if backend == "gemma" else backend


def _model_line(engine: Engine) -> None:
    """Which model compares meaning, how to get the stronger one, and the re-embedding."""
    embeddings.preload(engine)  # loads it, then recomputes what another model stored
    name = embeddings.expected_name()
    line = _ui.tr("suggest.backend", backend=_label(name))
    if name != "gemma":
        line += " · " + _ui.tr("model.panel_better")
    st.caption(line)
    progress = embeddings.reembed_progress(engine)
    if progress is not None and not progress.finished:
        st.caption(_ui.tr("model.reembedding", done=progress.done, total=progress.total))


def _suggestions(
    engine: Engine,
    who: Identity,
    workshop: Workshop,
    stored: dict[str, Any],
    domains: dict[int, str],
) -> None:
    result: suggest.Suggestions = stored["result"]
    texts: dict[int, str] = stored["texts"]
    if result.fallback:
        st.warning(
            _ui.tr("suggest.fallback", reason=_ui.md(result.fallback)), icon=":material/warning:"
        )
    if not result.themes:
        st.info(_ui.tr("suggest.none"))
        return
    issues = sum(len(t.issue_ids) for t in result.themes)
    summary = _ui.tr("suggest.summary", themes=result.k, issues=issues)
    if result.automatic:
        summary += f" ({_ui.tr('suggest.summary_auto')})"
    st.caption(f"{summary} · {_ui.tr('suggest.backend', backend=_label(result.backend))}")
    for n, theme in enumerate(result.themes):
        ss.setdefault(f"suggest_take_{n}", True)
        ss.setdefault(f"suggest_title_{n}", theme.label)
        ss.setdefault(f"suggest_members_{n}", list(theme.issue_ids))
        with st.container(border=True, key=f"suggestion_{n}"):
            take, title = st.columns([1, 6], vertical_alignment="bottom")
            take.checkbox(_ui.tr("suggest.take"), key=f"suggest_take_{n}")
            title.text_input(_ui.tr("suggest.theme_title"), key=f"suggest_title_{n}")
            notes = [_ui.tr("suggest.keywords", words=", ".join(theme.keywords))]
            if theme.domain is not None:
                notes.append(_ui.tr("suggest.domain", domain=domains.get(theme.domain, "")))  # type: ignore[call-overload]
            st.caption(_ui.md(" · ".join(notes)))
            st.caption(_ui.tr("suggest.central"))
            st.text(texts.get(theme.central_id, ""))
            st.multiselect(
                _ui.tr("suggest.members", count=len(ss[f"suggest_members_{n}"])),
                list(theme.issue_ids),
                format_func=lambda i: f"#{i} {texts.get(i, '')}",
                key=f"suggest_members_{n}",
            )
    chosen = sum(1 for n in range(len(result.themes)) if ss.get(f"suggest_take_{n}"))
    accept, every, nothing, clear = st.columns([3, 1, 1, 1])
    accept.button(
        _ui.tr("suggest.accept", count=chosen),
        key="suggest_accept",
        type="primary",
        disabled=not chosen or not phases.allows(workshop.phase, "group_themes"),
        on_click=_accept,
        args=(engine, who.actor, workshop.id),
    )
    every.button(
        _ui.tr("suggest.select_all"),
        key="suggest_all",
        on_click=_pick_all,
        args=(len(result.themes), True),
    )
    nothing.button(
        _ui.tr("suggest.select_none"),
        key="suggest_nothing",
        on_click=_pick_all,
        args=(len(result.themes), False),
    )
    clear.button(_ui.tr("suggest.clear"), key="suggest_clear", on_click=_forget)


def _duplicates(engine: Engine, who: Identity, workshop: Workshop, stored: dict[str, Any]) -> None:
    pairs: list[tuple[int, int, float]] = stored["pairs"]
    texts: dict[int, str] = stored["texts"]
    st.subheader(_ui.tr("suggest.duplicates", count=len(pairs)))
    if not pairs:
        st.caption(_ui.tr("suggest.duplicates_none"))
    for first, second, score in pairs:
        text, button = st.columns([3, 1], vertical_alignment="center")
        text.text(f"#{first} {texts.get(first, '')}\n#{second} {texts.get(second, '')}")
        text.caption(_ui.tr("suggest.score", score=f"{score:.2f}"))
        button.button(
            _ui.tr("suggest.mark"),
            key=f"suggest_dup_{first}_{second}",
            disabled=not phases.allows(workshop.phase, "group_themes"),
            on_click=_mark,
            args=(engine, who.actor, workshop.id, first, second),
        )
