"""The board's "suggest themes" section, `panel` (the logic is models.proposals), and
what it shares with "sort the rest" (`_sort_parts`); a group's hints are `_hint_parts`.

Both sections show the workshop's stored proposal, read per board version (no query of
their own on a rerun), so a reload or a colleague's board shows the same one until
someone accepts or dismisses it. What each facilitator ticks or retitles
stays in their own session, under keys carrying the proposal's id: a new proposal starts
from its own defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from models import embeddings, phases, proposals, suggest, themes, views
from models.access import Identity
from models.db import Engine
from models.errors import DomainError
from models.schema import Workshop
from pages import _ui
from pages._board_parts import actor_name

ss = st.session_state
T = TypeVar("T")
AUTO = "auto"
_THEMES_KEYS = ("suggest_take_", "suggest_title_", "suggest_members_")


def forget(prefixes: tuple[str, ...], keep: int | None) -> None:
    """Drop the widget state of proposals other than `keep` (decided, or replaced)."""
    for key in [k for k in ss if str(k).startswith(prefixes)]:
        pid = str(key).split("_", 2)[2].split("_", 1)[0]  # sort_rows_12_5 -> 12
        if keep is None or pid != str(keep):
            del ss[key]


def fail(error: DomainError) -> None:
    ss["board_error"] = error


class Refused:
    """What `attempt` returns when the command was refused (its error is on the board)."""


REFUSED = Refused()


def attempt(command: Callable[..., T], *args: Any, **kwargs: Any) -> T | Refused:
    """Run a board command from a callback; a refusal goes to the board's error line."""
    try:
        return command(*args, **kwargs)
    except DomainError as error:
        fail(error)
        return REFUSED


def made(stored: proposals.Stored) -> str:
    """Who made the proposal and when: it is shared, so say it is not this session's."""
    return _ui.tr(
        "suggest.proposal.made",
        who=actor_name(stored.made_by),
        time=stored.created_at.astimezone().strftime("%H:%M"),
    )


# --- suggest themes -----------------------------------------------------------------------


def _compute(engine: Engine, actor: str, workshop_id: int) -> None:
    """Run the suggestion (button, or a changed control while one is shown) and keep it."""
    choice = ss.get("suggest_k", AUTO)
    attempt(
        proposals.propose_themes,
        engine,
        actor=actor,
        workshop_id=workshop_id,
        k=None if choice == AUTO else int(choice),
        within_domain=bool(ss.get("suggest_within")),
    )


def _recompute(engine: Engine, actor: str, workshop_id: int, showing: bool) -> None:
    if showing:
        _compute(engine, actor, workshop_id)


def _accept(engine: Engine, actor: str, workshop_id: int, stored: proposals.Stored) -> None:
    pid = stored.id
    accepted = [
        suggest.Accepted(
            ss.get(f"suggest_title_{pid}_{n}", theme.label),
            ss.get(f"suggest_members_{pid}_{n}", []),
        )
        for n, theme in enumerate(stored.suggestions.themes)
        if ss.get(f"suggest_take_{pid}_{n}")
    ]
    created = attempt(
        proposals.accept_themes,
        engine, actor=actor, workshop_id=workshop_id, proposal_id=pid, accepted=accepted,
    )  # fmt: skip
    if isinstance(created, Refused):
        return
    forget(_THEMES_KEYS, None)
    _ui.flash(_ui.tr("suggest.accepted", count=len(created)))


def dismiss(engine: Engine, actor: str, workshop_id: int, proposal_id: int) -> None:
    attempt(
        proposals.dismiss, engine, actor=actor, workshop_id=workshop_id, proposal_id=proposal_id
    )


def _pick_all(keys: list[str], value: bool) -> None:
    for key in keys:
        ss[key] = value


def _mark(engine: Engine, actor: str, workshop_id: int, first: int, second: int) -> None:
    marked = attempt(
        themes.mark_duplicates,
        engine, actor=actor, workshop_id=workshop_id, original_id=first, duplicate_ids=[second],
    )  # fmt: skip
    if isinstance(marked, Refused):
        return
    _ui.flash(_ui.tr("suggest.marked"))


def panel(
    engine: Engine,
    who: Identity,
    workshop: Workshop,
    version: views.Version,
    board: themes.Board,
    groups: dict[int, str],
    domains: dict[int, str],
) -> None:
    """The board's "suggest themes" section: controls, suggestions, likely duplicates."""
    stored = proposals.current(engine, workshop.id, version).get(proposals.THEMES)  # type: ignore[arg-type]
    forget(_THEMES_KEYS, stored.id if stored else None)
    args: dict[str, Any] = {"args": (engine, who.actor, workshop.id)}
    with st.expander(
        _ui.tr("suggest.title"), expanded=stored is not None, icon=":material/auto_awesome:"
    ):
        st.caption(_ui.tr("suggest.intro"))
        _model_line(engine)
        left, middle, right = st.columns([3, 2, 2], vertical_alignment="bottom")
        pending = len(board.ungrouped)
        options = [AUTO, *range(2, max(2, min(suggest.MAX_THEMES, pending)) + 1)]
        if ss.get("suggest_k") not in options:
            ss["suggest_k"] = AUTO
        again: dict[str, Any] = {"args": (engine, who.actor, workshop.id, stored is not None)}
        left.select_slider(
            _ui.tr("suggest.granularity"),
            options,
            format_func=lambda v: _ui.tr("suggest.auto") if v == AUTO else str(v),
            key="suggest_k",
            on_change=_recompute,
            **again,
        )
        middle.toggle(
            _ui.tr("suggest.within_domain"),
            key="suggest_within",
            help=_ui.tr("suggest.within_domain_help"),
            on_change=_recompute,
            **again,
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
        texts = _texts(board, groups)
        _suggestions(engine, who, workshop, stored, board, texts, domains)
        _duplicates(engine, who, workshop, stored, board, texts)


def _texts(board: themes.Board, groups: dict[int, str]) -> dict[int, str]:
    everything = board.ungrouped + [i for v in board.themes for i in v.issues]
    return {i.id: f"{groups.get(i.group_id, '')}: {i.statement}" for i in everything}  # type: ignore[misc]


def model_label(backend: str) -> str:
    return _ui.tr("model.panel_gemma") if backend == "gemma" else backend


def _model_line(engine: Engine) -> None:
    """Which model compares meaning, how to get the stronger one, and the re-embedding."""
    embeddings.preload(engine)  # loads it, then recomputes what another model stored
    name = embeddings.expected_name()
    line = _ui.tr("suggest.backend", backend=model_label(name))
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
    stored: proposals.Stored,
    board: themes.Board,
    texts: dict[int, str],
    domains: dict[int, str],
) -> None:
    result = stored.suggestions
    review = proposals.review_themes(stored, {i.id for i in board.ungrouped})  # type: ignore[misc]
    pid = stored.id
    if result.fallback:
        st.warning(
            _ui.tr("suggest.fallback", reason=_ui.md(result.fallback)), icon=":material/warning:"
        )
    issues = sum(len(t.issue_ids) for _, t in review.themes)
    summary = _ui.tr("suggest.summary", themes=len(review.themes), issues=issues)
    if result.automatic:
        summary += f" ({_ui.tr('suggest.summary_auto')})"
    st.caption(f"{summary} · {_ui.tr('suggest.backend', backend=model_label(result.backend))}")
    st.caption(made(stored))
    if review.gone:
        st.warning(_ui.tr("suggest.proposal.gone", count=review.gone), icon=":material/history:")
    if not review.themes:
        st.info(_ui.tr("suggest.none"))
    for n, theme in review.themes:
        take, title, members = (f"suggest_{w}_{pid}_{n}" for w in ("take", "title", "members"))
        ss.setdefault(take, True)
        ss.setdefault(title, theme.name or theme.label)
        # Keep only what still applies: an issue grouped since cannot be offered again.
        ss[members] = [i for i in ss.get(members, theme.issue_ids) if i in theme.issue_ids]
        with st.container(border=True, key=f"suggestion_{n}"):
            tick, name, words = st.columns([1, 5, 3], vertical_alignment="bottom")
            tick.checkbox(_ui.tr("suggest.take"), key=take)
            name.text_input(_ui.tr("suggest.theme_title"), key=title)
            notes = [_ui.tr("suggest.keywords", words=", ".join(theme.keywords))]
            if theme.domain is not None:
                notes.append(_ui.tr("suggest.domain", domain=domains.get(theme.domain, "")))  # type: ignore[call-overload]
            words.caption(_ui.md(" · ".join(notes)))
            st.caption(_ui.tr("suggest.central"))
            st.text(texts.get(theme.central_id, ""))
            st.multiselect(
                _ui.tr("suggest.members", count=len(ss[members])),
                list(theme.issue_ids),
                format_func=lambda i: f"#{i} {texts.get(i, '')}",
                key=members,
            )
    takes = [f"suggest_take_{pid}_{n}" for n, _ in review.themes]
    chosen = sum(1 for key in takes if ss.get(key))
    accept, every, nothing, clear = st.columns([3, 1, 1, 1])
    accept.button(
        _ui.tr("suggest.accept", count=chosen),
        key="suggest_accept",
        type="primary",
        disabled=not chosen or not phases.allows(workshop.phase, "group_themes"),
        on_click=_accept,
        args=(engine, who.actor, workshop.id, stored),
    )
    every.button(
        _ui.tr("suggest.select_all"), key="suggest_all", on_click=_pick_all, args=(takes, True)
    )
    nothing.button(
        _ui.tr("suggest.select_none"),
        key="suggest_nothing",
        on_click=_pick_all,
        args=(takes, False),
    )
    clear.button(
        _ui.tr("suggest.proposal.dismiss"),
        key="suggest_clear",
        on_click=dismiss,
        args=(engine, who.actor, workshop.id, pid),
    )


def _duplicates(
    engine: Engine,
    who: Identity,
    workshop: Workshop,
    stored: proposals.Stored,
    board: themes.Board,
    texts: dict[int, str],
) -> None:
    # Pairs whose later issue is marked (or gone, or hidden) since are done with.
    unmarked = {
        i.id for i in board.ungrouped + [i for v in board.themes for i in v.issues]
        if i.duplicate_of_id is None
    }  # fmt: skip
    pairs = [p for p in stored.pairs if p[0] in texts and p[1] in unmarked]
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
