"""Staff sessions told apart: two facilitators sign in with one PIN, each gets a label.

The label (four hex digits, kept for the browser session) goes into the audit actor
(`facilitator#3fa2`, models.audit.SessionIdentity), so undo takes back one's own actions
and a board command can tell a colleague's change from one's own.
"""

from __future__ import annotations

import uuid

import streamlit as st

from models.access import Identity
from models.audit import SessionIdentity
from models.schema import Role
from pages import _ui

_STAFF = (Role.ORGANIZER, Role.FACILITATOR)


def identity(page: str) -> Identity:
    """`_ui.guard(page)`, with staff identities signed by this session's label."""
    who = _ui.guard(page)
    if who.role not in _STAFF:
        return who
    label = st.session_state.setdefault("_actor_label", uuid.uuid4().hex[:4])
    return SessionIdentity(who.role, who.workshop_id, who.group_id, label)
