"""A breakout group's voting screen: spend its dot votes on themes, optionally score them.

Each theme opens to show its issues, so a group votes on what the theme holds, not on
a title alone.
"""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import streamlit as st

from models import phases, views, votes, workshops
from models.errors import DomainError
from models.themes import ThemeView
from pages import _ui

who = _ui.guard("group_vote")
engine = _ui.engine()
workshop, version = _ui.current()
group = workshops.get_group(engine, who.group_id)  # type: ignore[arg-type]
board = views.board(engine, workshop.id, version)  # type: ignore[arg-type]
domains = {
    d.id: _ui.domain_label(d.name, d.name_en)
    for d in views.parts(engine, workshop.id, version)[1]  # type: ignore[arg-type]
}
open_for_votes = phases.allows(workshop.phase, "vote")
open_for_scores = workshop.groups_score and phases.allows(workshop.phase, "score")
scorer = votes.scorer_for(who)
ss = st.session_state


def _cast(theme_id: int) -> None:
    try:
        votes.cast_votes(engine, identity=who, theme_id=theme_id, count=int(ss[f"vote_{theme_id}"]))
    except DomainError as error:
        ss["vote_error"] = error  # the widget is reset from the database on the rerun


def _score(theme_id: int) -> None:
    try:
        votes.set_score(
            engine,
            identity=who,
            theme_id=theme_id,
            impact=int(ss[f"score_impact_{theme_id}"]),
            feasibility=int(ss[f"score_feas_{theme_id}"]),
        )
    except DomainError as error:
        ss["vote_error"] = error
        return
    ss["score_saved"] = theme_id


def _scoring(view: ThemeView, given: tuple[int, int] | None) -> None:
    theme_id = view.theme.id
    for key, value in zip(("score_impact", "score_feas"), given or (3, 3), strict=True):
        ss.setdefault(f"{key}_{theme_id}", value)
    st.caption(_ui.tr("vote.score_hint"))
    left, right = st.columns(2)
    left.slider(_ui.tr("vote.score_impact"), 1, 5, key=f"score_impact_{theme_id}")
    right.slider(_ui.tr("vote.score_feasibility"), 1, 5, key=f"score_feas_{theme_id}")
    st.button(
        _ui.tr("vote.score_save"), key=f"score_save_{theme_id}", on_click=_score, args=(theme_id,)
    )
    if ss.get("score_saved") == theme_id:
        ss.pop("score_saved")
        st.success(_ui.tr("vote.score_saved"))


def _issues(view: ThemeView) -> None:
    """The theme's issues, drawn only while open (20 themes × 100 issues stay unsent)."""
    shown = st.expander(
        _ui.tr("vote.issues", count=view.issue_count),
        key=f"vote_issues_{view.theme.id}",
        on_change="rerun",
    )
    if not shown.open:
        return
    with shown:  # one plain-text element for the list: user text is never Markdown
        st.text("\n".join(f"• [{domains.get(i.domain_id, '')}] {i.statement}" for i in view.issues))


def _theme(view: ThemeView, ours: int, given: tuple[int, int] | None) -> None:
    theme_id = view.theme.id
    with st.container(border=True, key=f"theme_{theme_id}"):
        st.text(view.theme.title)
        st.caption(
            _ui.tr(
                "vote.meta",
                issues=view.issue_count,
                groups=len(view.group_ids),
                total=board.group_count,
            )
        )
        _issues(view)
        if open_for_votes:
            ss[f"vote_{theme_id}"] = ours  # always what is stored, also after a refusal
            st.number_input(
                _ui.tr("vote.ours"),
                min_value=0,
                max_value=max(workshop.max_votes_per_theme, ours),
                step=1,
                key=f"vote_{theme_id}",
                on_change=_cast,
                args=(theme_id,),
            )
        else:
            st.caption(_ui.tr("vote.ours_readonly", count=ours))
        if open_for_scores:
            _scoring(view, given)


st.title(_ui.tr("vote.title"))
st.caption(f"{_ui.md(group.name)} · {_ui.md(workshop.title)}")

ours = votes.group_votes(engine, group.id)  # type: ignore[arg-type]
left = votes.votes_left(engine, group.id)  # type: ignore[arg-type]
st.metric(_ui.tr("vote.left"), _ui.tr("vote.left_of", left=left, budget=workshop.vote_budget))
if open_for_votes:
    _ui.countdown(workshop)
    st.caption(_ui.tr("vote.rules", budget=workshop.vote_budget, max=workshop.max_votes_per_theme))
else:
    st.info(_ui.tr("vote.closed", phase=_ui.tr(f"phase.{workshop.phase}")))
if error := ss.pop("vote_error", None):
    _ui.show_error(error)

if not board.themes:
    st.info(_ui.tr("vote.no_themes"))
    st.stop()

given = votes.scores_by(engine, workshop.id, scorer) if open_for_scores else {}  # type: ignore[arg-type]
st.subheader(_ui.tr("vote.themes", count=len(board.themes)))
for view in board.themes:  # the board's order: position, then id
    _theme(view, ours.get(view.theme.id, 0), given.get(view.theme.id))  # type: ignore[arg-type]
