"""Every group's QR code and join link, large enough to scan from a projector."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import streamlit as st

from models import cards, links, workshops
from pages import _ui

who = _ui.guard("organizer_join")
engine = _ui.engine()
workshop = _ui.workshop()

st.title(_ui.tr("join.title"))
st.caption(_ui.tr("join.hint"))
base = st.text_input(_ui.tr("join.base_url"), value=_ui.base_url(), key="join_base_url")
lang = _ui.lang()
st.download_button(
    _ui.tr("join.cards"),
    # Built only on click (fpdf2 with shaping: ~1 s for twenty cards).
    data=lambda: cards.cards_pdf(
        cards.workshop_cards(engine, workshop, base=base), title=workshop.title, lang=lang
    ),
    file_name=cards.file_name(workshop),
    mime="application/pdf",
    key="join_cards",
    icon=":material/print:",
    help=_ui.tr("join.cards_help"),
    on_click="ignore",  # no rerun racing the browser's fetch (see pages/_data_parts.py)
)
# A row of radio buttons, not a select slider: a screen reader announced the slider's label
# twice, and "4" on a slider did not say four of what.
per_row = st.radio(_ui.tr("join.size"), [2, 3, 4, 5], index=2, horizontal=True, key="join_qr_size")

viewer_link = links.view_link(base, workshop.view_code)
st.subheader(_ui.tr("join.viewer"))
left, right = st.columns([1, 3])
left.image(links.qr_png(viewer_link), width=200, alt=_ui.tr("join.qr_alt", link=viewer_link))
right.code(viewer_link, language=None)

groups = workshops.list_groups(engine, workshop.id)  # type: ignore[arg-type]
for start in range(0, len(groups), per_row):
    for column, group in zip(st.columns(per_row), groups[start : start + per_row], strict=False):
        link = links.join_link(base, group.join_code)
        with column.container(border=True):
            st.markdown(f"### {_ui.md(group.name)}")
            st.image(links.qr_png(link), width="stretch", alt=_ui.tr("join.qr_alt", link=link))
            st.code(group.join_code, language=None)
            st.caption(_ui.md(link))
