"""Staff sessions told apart: two facilitators sign in with one PIN, each gets a label.

The label (four hex digits) goes into the audit actor (`facilitator#3fa2`,
models.audit.SessionIdentity), so undo takes back one's own actions and a board command
can tell a colleague's change from one's own. It is derived from the browser's staff
token (one per sign-in, kept in a cookie), so a reload keeps it: a facilitator who
refreshes the board can still undo what they did before.
"""

from __future__ import annotations

import hashlib
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
    if token := st.session_state.get("staff_token"):
        # A one-way digest: the label names the sign-in without revealing its token.
        label = hashlib.sha256(f"roundtable-actor:{token}".encode()).hexdigest()[:4]
        st.session_state["_actor_label"] = label
    else:  # signed in another way (tests): one label for this browser session
        label = st.session_state.setdefault("_actor_label", uuid.uuid4().hex[:4])
    return SessionIdentity(who.role, who.workshop_id, who.group_id, label)
