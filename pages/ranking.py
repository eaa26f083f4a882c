"""The ranked themes for the plenary, and the facilitator's impact × feasibility scoring."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import streamlit as st

from models import phases, views, votes
from models.access import Identity
from models.errors import DomainError
from models.ranking import RankedTheme
from pages import _staff, _ui

who = _staff.identity("ranking")
engine = _ui.engine()
workshop, version = _ui.current()
ss = st.session_state


def _number(value: float | None) -> str:
    return _ui.tr("ranking.not_scored") if value is None else f"{value:.1f}"


def _rank(item: RankedTheme) -> str:
    """`2 (เสมอ)` for each of the tied themes, which share one rank."""
    return _ui.tr("ranking.tie", rank=item.rank) if item.tied else str(item.rank)


def _table(ranked: list[RankedTheme]) -> dict[str, list[str]]:
    """Columns of plain text, headed from the catalogue (a dataframe never renders Markdown)."""
    columns: dict[str, list[str]] = {
        _ui.tr(f"ranking.{name}"): []
        for name in ("rank", "theme", "votes", "groups", "issues", "impact", "feasibility", "score")
    }
    for item in ranked:
        cells = (
            _rank(item),
            item.theme.title,
            str(item.votes),
            _ui.tr("ranking.groups_of", groups=item.group_count, total=item.group_total),
            str(item.issue_count),
            _number(item.impact),
            _number(item.feasibility),
            _number(item.score),
        )
        for column, cell in zip(columns.values(), cells, strict=True):
            column.append(cell)
    return columns


def _preset(given: dict[int, tuple[int, int]]) -> None:
    """Show the facilitator's stored score of the chosen theme on the sliders."""
    impact, feasibility = given.get(ss["fac_score_theme"], (3, 3))
    ss["fac_score_impact"], ss["fac_score_feas"] = impact, feasibility


def _save(identity: Identity) -> None:
    try:
        votes.set_score(
            engine,
            identity=identity,
            theme_id=ss["fac_score_theme"],
            impact=int(ss["fac_score_impact"]),
            feasibility=int(ss["fac_score_feas"]),
        )
    except DomainError as error:
        ss["fac_score_error"] = error
        return
    ss["fac_score_saved"] = True


def _scoring_form(ranked: list[RankedTheme]) -> None:
    st.subheader(_ui.tr("ranking.score_title"))
    if not phases.allows(workshop.phase, "score"):
        st.info(_ui.tr("ranking.score_closed", phase=_ui.tr(f"phase.{workshop.phase}")))
        return
    if error := ss.pop("fac_score_error", None):
        _ui.show_error(error)
    if ss.pop("fac_score_saved", False):
        st.success(_ui.tr("ranking.score_saved"))
    titles = {item.theme.id: f"{_rank(item)}. {item.theme.title}" for item in ranked}
    given = votes.scores_by(engine, workshop.id, votes.STAFF_SCORER)  # type: ignore[arg-type]
    if ss.get("fac_score_theme") not in titles:
        ss["fac_score_theme"] = next(iter(titles))
        _preset(given)
    st.selectbox(
        _ui.tr("ranking.score_theme"),
        list(titles),
        format_func=titles.get,
        key="fac_score_theme",
        on_change=_preset,
        args=(given,),
    )
    left, right = st.columns(2)
    left.slider(_ui.tr("ranking.score_impact"), 1, 5, key="fac_score_impact")
    right.slider(_ui.tr("ranking.score_feasibility"), 1, 5, key="fac_score_feas")
    st.button(
        _ui.tr("ranking.score_save"),
        key="fac_score_save",
        type="primary",
        on_click=_save,
        args=(who,),
    )


st.title(_ui.tr("ranking.title"))
_ui.workshop_caption(workshop)

ranked = views.ranked(engine, workshop.id, version)  # type: ignore[arg-type]
if not ranked:
    st.info(_ui.tr("ranking.none"))
    st.stop()

st.dataframe(_table(ranked), hide_index=True)
st.caption(_ui.tr("ranking.order"))

if _ui.is_staff():
    _scoring_form(ranked)
