"""Landing page for visitors: join a group, watch, or sign in as staff."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
import streamlit as st

from models import access
from models.access import Identity
from models.errors import DomainError
from models.schema import Role
from pages import _ui

if (signed_in := _ui.identity()) is not None:
    # The rerun after joining lands here; hand over to the role's first page.
    st.switch_page(f"pages/{access.landing_page(signed_in.role)}.py")

st.title("Roundtable")
st.caption(_ui.tr("home.tagline"))

if error := st.session_state.pop("login_error", None):
    _ui.show_error(error)


def _enter(who: Identity, url_key: tuple[str, str] | None, token: str | None = None) -> None:
    """Take the role; a group's or viewer's code goes into the URL (their link), a staff
    token only into this session and the browser's cookie (app.py sets it)."""
    st.session_state["identity"] = who
    if url_key is not None:
        st.session_state["url_key"] = url_key
    if token is not None:
        st.session_state["staff_token"] = token
        st.session_state.pop("_forget_cookie", None)
    st.rerun()


tab_group, tab_view, tab_staff = st.tabs(
    [_ui.tr("home.tab_group"), _ui.tr("home.tab_view"), _ui.tr("home.tab_staff")]
)

with tab_group, st.form("join_group"):
    code = st.text_input(_ui.tr("home.join_code"), key="join_code", max_chars=20)
    if st.form_submit_button(_ui.tr("home.join"), type="primary"):
        try:
            group = access.join_group(_ui.engine(), code, client=_ui.client())
        except DomainError as error:
            _ui.show_error(error)
        else:
            _enter(Identity(Role.GROUP, group.workshop_id, group.id), ("join", group.join_code))

with tab_view, st.form("join_view"):
    view = st.text_input(_ui.tr("home.view_code"), key="view_code", max_chars=20)
    if st.form_submit_button(_ui.tr("home.watch")):
        try:
            workshop = access.join_viewer(_ui.engine(), view, client=_ui.client())
        except DomainError as error:
            _ui.show_error(error)
        else:
            _enter(Identity(Role.VIEWER, workshop.id), ("view", workshop.view_code))

with tab_staff, st.form("staff_login"):
    role = st.radio(
        _ui.tr("home.staff_role"),
        [Role.FACILITATOR, Role.ORGANIZER],
        format_func=lambda r: _ui.tr(f"role.{r.value}"),
        key="staff_role",
        horizontal=True,
    )
    secret = st.text_input(_ui.tr("home.secret"), type="password", key="staff_secret")
    if st.form_submit_button(_ui.tr("home.sign_in")):
        try:
            token = access.login_staff(_ui.engine(), role, secret, client=_ui.client())
        except DomainError as error:
            _ui.show_error(error)
        else:
            _enter(Identity(role), None, token)
