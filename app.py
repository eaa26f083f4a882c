"""Roundtable's entry: page config, who-is-this, and the navigation this role may see."""

from __future__ import annotations

from pages import _startup  # noqa: F401  (first, see pages/_startup.py)

# isort: split
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from models import access, admission, embeddings, workshops
from models.access import Identity
from models.errors import DomainError
from models.i18n import LANGS
from models.schema import Role
from pages import _live, _ui

STYLE = Path(__file__).parent / "data" / "style" / "app.css"

st.set_page_config(page_title="Roundtable", page_icon=":material/forum:", layout="wide")
st.html(STYLE)  # style only: Streamlit sends it aside, it takes no space on the page

# Title and icon of each page; who may open which is models.access.PAGE_ROLES.
PAGES: dict[str, tuple[str, str]] = {
    "group_issues": ("nav.group_issues", ":material/edit_note:"),
    "group_vote": ("nav.group_vote", ":material/how_to_vote:"),
    "group_recommend": ("nav.group_recommend", ":material/lightbulb:"),
    "overview": ("nav.overview", ":material/bar_chart:"),
    "ranking": ("nav.ranking", ":material/leaderboard:"),
    "present": ("nav.present", ":material/slideshow:"),
    "facilitate": ("nav.facilitate", ":material/tune:"),
    "board": ("nav.board", ":material/dashboard:"),
    "recommendations": ("nav.recommendations", ":material/checklist:"),
    "organizer_workshop": ("nav.workshop", ":material/event:"),
    "organizer_groups": ("nav.groups", ":material/groups:"),
    "organizer_join": ("nav.join", ":material/qr_code_2:"),
    "organizer_data": ("nav.data", ":material/download:"),
}


def _identity_from_url() -> None:
    """A new session (first visit or refresh) re-derives its role: a group's or viewer's
    code from the URL, a staff token from the browser's cookie (never from the URL: a
    projected address bar would hand the role to the room). A staff session also ends
    when its token is revoked elsewhere (signed out in another tab, PIN changed)."""
    params = st.query_params
    if "lang" not in st.session_state:
        st.session_state["lang"] = params.get("lang") if params.get("lang") in LANGS else "th"
    params.pop("s", None)  # the old place of staff tokens: never honoured, never kept
    engine = _ui.engine()
    if (token := st.session_state.get("staff_token")) is not None:
        if access.token_alive(engine, token):
            return
        _forget_staff()
    if _ui.identity() is not None:
        return
    try:
        if code := params.get("join"):
            group = access.join_group(engine, code, client=_ui.client())
            st.session_state["identity"] = Identity(Role.GROUP, group.workshop_id, group.id)
            st.session_state["url_key"] = ("join", group.join_code)
        elif code := params.get("view"):
            workshop = access.join_viewer(engine, code, client=_ui.client())
            st.session_state["identity"] = Identity(Role.VIEWER, workshop.id)
            st.session_state["url_key"] = ("view", workshop.view_code)
        elif (token := _ui.staff_cookie()) and st.session_state.get("_cookie_seen") != token:
            st.session_state["_cookie_seen"] = token  # checked once per session
            if (found := access.parse_token(engine, token)) is None:
                st.session_state["_forget_cookie"] = True  # lapsed or revoked: drop it
                st.session_state["login_error"] = DomainError("error.login.expired")
            else:
                st.session_state["identity"] = found
                st.session_state["staff_token"] = token
    except DomainError as error:
        st.session_state["login_error"] = error
        for key in ("join", "view"):
            params.pop(key, None)


def _forget_staff() -> None:
    """End this session's role: identity, the token and the URL's codes, and have the
    browser drop its cookie on the next run (see _ui.keep_staff_cookie)."""
    for key in ("identity", "url_key", "workshop_id", "staff_token", "_actor_label"):
        st.session_state.pop(key, None)
    st.session_state["_forget_cookie"] = True
    for key in ("join", "view", "s"):
        st.query_params.pop(key, None)


def _sign_out() -> None:
    """Revoke the staff token server-side first (a reload or another replica must not
    honour it), clear the session and the URL, then land on the home page."""
    if token := st.session_state.get("staff_token"):
        access.revoke_token(_ui.engine(), token)
    _forget_staff()
    st.switch_page("pages/home.py")


def _sync_url() -> None:
    """Keep what proves the role (and the language) in the URL, so a refresh keeps both."""
    wanted: dict[str, str] = {}
    if url_key := st.session_state.get("url_key"):
        wanted[url_key[0]] = url_key[1]
    if _ui.lang() != "th":
        wanted["lang"] = _ui.lang()
    for key in ("join", "view", "lang"):
        if key in wanted and st.query_params.get(key) != wanted[key]:
            st.query_params[key] = wanted[key]
        elif key not in wanted and key in st.query_params:
            del st.query_params[key]


# The sidebar's widgets hand their value to a plain session key through a callback, never
# through their own widget state. A fresh server process runs its first run as an old-style
# (`pages/` folder) app until st.navigation is called, under the page hash of "app", so
# this file's widgets get other ids in that first run than in later ones (Streamlit 1.67):
# the first click there reached a "new" widget, which came back at its default. A callback
# fires for the widget that was clicked, whatever id the next run gives it.
def _take(widget: str, key: str) -> None:
    st.session_state[key] = st.session_state[widget]


def _sidebar() -> None:
    with st.sidebar:
        st.radio(
            "ภาษา / Language",
            LANGS,
            index=LANGS.index(_ui.lang()),
            format_func=lambda code: {"th": "ไทย", "en": "English"}[code],
            key="language",
            on_change=_take,
            args=("language", "lang"),
            horizontal=True,
        )
        who = _ui.identity()
        if who is None:
            return
        role = _ui.tr(f"role.{who.role.value}")
        if who.group_id is not None:  # a shared laptop should say which group it is
            role = f"{role}: {workshops.get_group(_ui.engine(), who.group_id).name}"
        st.caption(_ui.md(role))
        if who.workshop_id is None:  # staff choose among workshops
            found = workshops.list_workshops(_ui.engine())
            if found:
                titles = {w.id: f"{w.title} ({w.slug})" for w in found}
                if switch := st.session_state.pop("switch_workshop", None):
                    st.session_state["workshop_id"] = switch
                if st.session_state.get("workshop_id") not in titles:
                    st.session_state["workshop_id"] = found[0].id
                st.session_state["workshop_choice"] = st.session_state["workshop_id"]
                st.selectbox(
                    _ui.tr("workshop.select"),
                    list(titles),
                    format_func=titles.get,
                    key="workshop_choice",
                    on_change=_take,
                    args=("workshop_choice", "workshop_id"),
                )
        st.button(
            _ui.tr("nav.logout"),
            key="logout",
            icon=":material/logout:",
            on_click=_take,
            args=("logout", "_signing_out"),
        )
        if st.session_state.pop("_signing_out", False):
            _sign_out()


# Which of this run's pages is which (st.navigation hands back the page object it runs).
_page_names: dict[int, str] = {}


def _navigation() -> StreamlitPage:
    """The pages this session's role may open. The join page is always the default (the
    site's root, hidden once signed in) and hands over to the role's first page: a default
    page has no path of its own, so a typed or bookmarked `/group_issues?join=…` would
    otherwise be "not found"."""
    who = _ui.identity()
    home = st.Page(
        "pages/home.py",
        title=_ui.tr("nav.home"),
        icon=":material/login:",
        url_path="join",
        default=True,
        visibility="visible" if who is None else "hidden",
    )
    if who is None:
        return st.navigation([home], position="hidden")
    allowed = [name for name in PAGES if access.may_open(who.role, name)]
    pages = [
        st.Page(
            f"pages/{name}.py",
            title=_ui.tr(PAGES[name][0]),
            icon=PAGES[name][1],
            url_path=name,
        )
        for name in allowed
    ]
    _page_names.clear()
    _page_names.update({id(page): name for page, name in zip(pages, allowed, strict=True)})
    return st.navigation([*pages, home])


# The process's start, as far as the app can see it (`streamlit run` has no hook of its own,
# and this file runs on every rerun): the first run starts loading the sentence model and
# re-embedding what another model stored, in the background; `preload` runs it once per
# process and database, so later runs pay a set lookup and no page's run waits for it.
embeddings.preload(_ui.engine())

# Sessions nobody has identified yet take turns (models/admission.py): a storm of new
# tabs must not slow the groups already at work.
with admission.turn(identified=_ui.identity() is not None):
    st.session_state["_app_ran"] = True  # see pages/_ui.guard
    _identity_from_url()
    _sidebar()
    _ui.declare_lang()
    _ui.speak_streamlit_in(_ui.lang())
    _sync_url()
    if token := st.session_state.get("staff_token"):
        _ui.keep_staff_cookie(token)
    elif st.session_state.get("_forget_cookie"):
        _ui.keep_staff_cookie(None)
    navigation = _navigation()
    if (wanted := st.session_state.pop("_wanted_page", None)) and access.may_open(
        getattr(_ui.identity(), "role", None), wanted
    ):
        st.switch_page(f"pages/{wanted}.py")  # the page asked for before the hand-over
    shown = _page_names.get(id(navigation))
    if _ui.identity() is not None and shown not in _live.OWN_TIMER | _live.HOLD_STILL:
        with st.sidebar:  # draws nothing; in the sidebar it leaves no gap on the page
            _live.follow()  # every open screen follows the workshop (see pages/_live.py)
    navigation.run()
