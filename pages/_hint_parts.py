"""Duplicate hints on a group's issue page: other groups' statements close to ours.

Two kinds: under a stored issue (`show_similar`, from the stored vectors), and while a
group is still typing a new statement (`typing_hints`). Streamlit's text area sends its
value only on submit or blur, so a small invisible component (custom components v2)
listens to the statement field's typing in the page and, after a pause, sends the draft
as its state; the component sits in a fragment, so only the hint box reruns: the form,
and what is being typed into it, is never redrawn or submitted.
"""

from __future__ import annotations

import streamlit as st

from models import suggest, views
from models.db import Engine
from pages import _ui

KEY = "draft_hints"  # the component's key: its state (the last draft sent) is kept under it
PAUSE_MS = 500  # a pause in typing this long sends the draft (the hint shows < 1 s later)

# Trusted code of ours (no user text in it). It listens on the document, not on the
# textarea: React may replace the textarea element on a rerun of the page.
_JS = """
export default function ({ data, setStateValue }) {
  const { box, pause, max } = data;
  let timer = 0;
  const current = () => {
    const area = document.querySelector(`${box} textarea`);
    return area ? [...area.value].slice(0, max).join("") : "";
  };
  const send = () => {
    timer = 0;
    const text = current();
    if (text !== data.draft) setStateValue("draft", text);
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(send, pause);
  };
  const onInput = (event) => {
    if (event.target instanceof HTMLTextAreaElement && event.target.closest(box)) later();
  };
  document.addEventListener("input", onInput, true);
  // Filled without typing (a draft restored by live.js, a field emptied by a save).
  if (current() !== data.draft) later();
  return () => {
    clearTimeout(timer);
    document.removeEventListener("input", onInput, true);
  };
}
"""

_draft_listener = st.components.v2.component("roundtable_draft_hints", js=_JS)


def _show(key: str, similar: list[suggest.Similar], groups: dict[int, str]) -> None:
    if similar:  # statements are user text: Markdown-escaped, shown as typed
        items = "; ".join(
            f"{groups.get(s.issue.group_id, '')}: {s.issue.statement}" for s in similar
        )
        st.info(_ui.tr(key, items=_ui.md(items)), icon=":material/content_copy:")


def show_similar(similar: list[suggest.Similar], groups: dict[int, str]) -> None:
    _show("suggest.similar", similar, groups)


@st.fragment
def typing_hints(
    engine: Engine,
    workshop_id: int,
    group_id: int,
    field_key: str,
    groups: dict[int, str],
    max_chars: int,
) -> None:
    """Other groups' statements close to the draft in the text area keyed `field_key`.

    The caller draws it only after the reveal and while entry is open. A pause in typing
    reruns this fragment alone; it reads the workshop's current version, so statements
    other groups stored since the page was drawn count too.
    """
    version = views.version(engine, workshop_id)
    workshop = views.workshop(engine, workshop_id, version)
    sent = st.session_state.get(KEY)
    data = {
        "box": f".st-key-{field_key}",
        "pause": PAUSE_MS,
        "max": max_chars,
        "draft": (sent.get("draft") if sent else None) or "",  # what the server has
    }
    result = _draft_listener(
        key=KEY, data=data, default={"draft": ""}, on_draft_change=lambda: None, height=1
    )
    draft = str(result.draft or "")
    if not workshop.revealed:
        return
    view = views.group_view(engine, workshop_id, group_id, True, version)
    if any(issue.statement.strip() == draft.strip() for issue in view.mine):
        return  # just saved: its hints are shown with the "saved" note
    _show("hints.typing", views.draft_hints(view, draft), groups)
