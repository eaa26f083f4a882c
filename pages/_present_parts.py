"""Pieces of presentation mode (pages/present.py): full-screen styling, keys and slides."""

from __future__ import annotations

import streamlit as st

from models import links
from models.ranking import RankedTheme
from pages import _ui

# Hide Streamlit's chrome and enlarge the text: the room reads this from the back.
_STYLE = """<style>
header[data-testid="stHeader"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"] {display: none !important;}
.block-container {padding-top: 1.5rem; max-width: 100% !important;}
.stApp h2 {font-size: 3rem !important;}
.stApp [data-testid="stText"], .stApp p {font-size: 1.6rem !important; line-height: 1.5;}
.stApp [data-testid="stMetricValue"], .stApp [data-testid="stMetricValue"] * {
  font-size: 3.2rem !important; font-weight: 700; line-height: 1.2;}
.stApp [data-testid="stCode"] code {font-size: 1.6rem !important;}
</style>"""
# `.stApp` on the metric rule: `.stApp p` (more specific than an attribute alone) had
# shrunk the figures to body size. The join link is typed from the back of the hall.

# Arrow keys, Page Up/Down and space click the buttons (the presenter's clicker sends those).
# st.html runs it in the page itself (no iframe, so no `window.parent`); once per tab.
_KEYS = """<script>
(() => {
const doc = document;
if (!doc.roundtableKeys) {
  doc.roundtableKeys = true;
  doc.addEventListener("keydown", (event) => {
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea") return;
    const next = ["ArrowRight", "PageDown", " "].includes(event.key);
    const prev = ["ArrowLeft", "PageUp"].includes(event.key);
    if (!next && !prev) return;
    const key = next ? ".st-key-present_next button" : ".st-key-present_prev button";
    const button = doc.querySelector(key);
    if (button && !button.disabled) { event.preventDefault(); button.click(); }
  });
}
})();
</script>"""


def fullscreen_style() -> None:
    st.html(_STYLE)
    keys()


def keys() -> None:
    """The presenter's keys (st.components.v1.html is deprecated since Streamlit 1.67)."""
    st.html(_KEYS, unsafe_allow_javascript=True)


def _move(offset: int) -> None:
    st.session_state["slide"] = st.session_state.get("slide", 0) + offset


def controls(slide: int, slides: int) -> None:
    prev, where, nxt = st.columns([1, 6, 1], vertical_alignment="center")
    # Named in words for screen readers (help= is only a tooltip); app.css draws the
    # words off-screen and the arrow icon shows (section a11y: audit).
    prev.button(
        _ui.tr("present.prev"),
        icon=":material/arrow_back:",
        key="present_prev",
        disabled=slide == 0,
        on_click=_move,
        args=(-1,),
        help=_ui.tr("present.prev"),
    )
    nxt.button(
        _ui.tr("present.next"),
        icon=":material/arrow_forward:",
        key="present_next",
        disabled=slide >= slides - 1,
        on_click=_move,
        args=(1,),
        help=_ui.tr("present.next"),
    )
    where.caption(_ui.tr("present.slide", slide=slide + 1, slides=slides))
    workshop = _ui.workshop()
    # On every slide: the room reads the phase and its countdown from the projector.
    where.caption(f"{_ui.tr('workshop.phase')}: {_ui.tr(f'phase.{workshop.phase}')}")
    with where:
        _ui.countdown(workshop)


def join_screen(view_link: str) -> None:
    """The follow-along link only: a projected group join code would let anyone in the
    room act as that group (group codes go on printed cards, pages/organizer_join.py)."""
    left, right = st.columns([1, 2])
    left.image(
        links.qr_png(view_link, scale=10), width=320, alt=_ui.tr("join.qr_alt", link=view_link)
    )
    right.subheader(_ui.tr("present.follow"))
    right.code(view_link, language=None)


def figures_row(entry: RankedTheme, lang: str) -> None:
    votes, groups, issues, impact, feasibility = st.columns(5)
    votes.metric(_ui.tr("present.votes"), entry.votes)
    groups.metric(_ui.tr("present.groups"), f"{entry.group_count}/{entry.group_total}")
    issues.metric(_ui.tr("present.issue_count"), entry.issue_count)
    impact.metric(
        _ui.tr("dashboard.impact"), "–" if entry.impact is None else f"{entry.impact:.1f}"
    )
    feasibility.metric(
        _ui.tr("dashboard.feasibility"),
        "–" if entry.feasibility is None else f"{entry.feasibility:.1f}",
    )
