"""What every page shares: the engine, the visitor's identity, language and workshop.

Not a page (the leading underscore keeps it out of the navigation and the smoke test).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import streamlit as st

from models import access, autobackup, db, embeddings, i18n, links, shutdown, views, workshops
from models.access import Identity
from models.bootstrap import bootstrap
from models.db import Engine
from models.errors import DomainError
from models.schema import Role, Workshop
from models.text import escape_inline, escape_markdown


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    engine = db.get_engine(url)
    autobackup.start_schedule(url)  # once per process: this resource is built once per URL
    shutdown.exit_quickly()
    embeddings.preload()  # in the background: the first stored issue need not wait for it
    if generated := bootstrap(engine):
        # Nobody configured these: say them once, on the operator's terminal only.
        lines = [
            f"{name}={value}  (generated; only its hash is stored)"
            for name, value in generated.items()
        ]
        if not access.tell_operator(lines):
            print(access.NOT_SHOWN, flush=True)
    return engine


_engines: dict[str, Engine] = {}


def engine() -> Engine:
    url = db.database_url()
    # A dict first: st.cache_resource hashes its arguments on every call (~0.3 ms), and a
    # page asks several times per rerun. The resource still builds each engine just once.
    found = _engines.get(url)
    if found is None:
        found = _engines[url] = _engine_for(url)
    return found


def lang() -> str:
    return st.session_state.get("lang", i18n.DEFAULT_LANG)


def tr(key: str, **values: Any) -> str:
    return i18n.t(lang(), key, **values)


def md(text: str) -> str:
    """User text made safe for the few widgets that only take Markdown (labels, titles)."""
    return escape_markdown(text)


def show_error(error: DomainError) -> None:
    # Values quote user text (a duplicate name, a file's cell): plain text, like all of it.
    values = {
        k: escape_inline(v) if isinstance(v, str) and k not in ("field", "phase") else v
        for k, v in error.values.items()
    }
    st.error(i18n.error_message(lang(), DomainError(error.key, **values)), icon=":material/error:")


def identity() -> Identity | None:
    return st.session_state.get("identity")


def staff_cookie() -> str | None:
    """The staff token this browser sent when its connection opened (a new session)."""
    value = st.context.cookies.get(access.STAFF_COOKIE)
    return value if isinstance(value, str) else None  # AppTest has no browser cookies


def keep_staff_cookie(token: str | None) -> None:
    """Store the staff token in this browser's cookie (None: delete it).

    Why a cookie set by a script: the token must survive a reload (a new session) but
    never show in the address bar, and Streamlit offers no response header to set one.
    The server reads it back with `st.context.cookies` when the next session connects.
    SameSite=Strict keeps other sites' pages from sending it; the cookie cannot be
    HttpOnly (a script sets it), which is acceptable as no user text ever reaches the
    page as HTML. Drawn in the sidebar on every run of a staff session (idempotent), so
    a run cut short by a page switch cannot lose it; it shows nothing.
    """
    name = access.STAFF_COOKIE
    if token is None:
        cookie = json.dumps(f"{name}=; Path=/; Max-Age=0; SameSite=Strict")
    else:
        age = int(access.TOKEN_LIFETIME.total_seconds())
        cookie = json.dumps(f"{name}={token}; Path=/; Max-Age={age}; SameSite=Strict")
    secure = '(location.protocol === "https:" ? "; Secure" : "")'
    with st.sidebar:
        st.html(
            f"<script>document.cookie = {cookie} + {secure};</script>",
            unsafe_allow_javascript=True,
        )


def declare_lang() -> None:
    """Say the session's language on `<html lang>` (Streamlit's index.html always says
    "en"): screen readers pick their Thai or English voice by it. A script drawn in the
    sidebar, where it leaves no gap; it runs again only when the language changes."""
    with st.sidebar:
        st.html(
            f"<script>document.documentElement.lang = {json.dumps(lang())};</script>",
            unsafe_allow_javascript=True,
        )


# Sets aria-label on the elements each selector finds, and renames Streamlit's own English
# names (`words`: "English" -> ours; a key ending in a space is a prefix, the rest stays),
# now and whenever Streamlit draws or renames them again (one observer per tab, batched
# per frame); a later call adds or replaces names.
_ARIA_LABELS = """(() => {
  const rt = (window.roundtableNames ??= { names: {}, words: {}, queued: false });
  const given = %s;
  Object.assign(rt.names, given.names || {});
  if (given.words) rt.words = given.words;
  const rename = (label) => {
    for (const [english, ours] of Object.entries(rt.words)) {
      if (english.endsWith(" ") ? label.startsWith(english) : label === english) {
        return ours + label.slice(english.length);
      }
    }
    return null;
  };
  const apply = () => {
    rt.queued = false;
    for (const [selector, name] of Object.entries(rt.names)) {
      for (const el of document.querySelectorAll(selector)) {
        if (el.getAttribute("aria-label") !== name) el.setAttribute("aria-label", name);
      }
    }
    // Streamlit's own name is kept beside ours: a language switch renames it again (or
    // gives it back), and a name Streamlit changes meanwhile is taken as its new own.
    for (const el of document.querySelectorAll("[aria-label]")) {
      const label = el.getAttribute("aria-label");
      const own = label === el.dataset.rtName ? el.dataset.rtOwn : label;
      const name = rename(own) ?? own;
      if (name !== own) Object.assign(el.dataset, { rtOwn: own, rtName: name });
      if (label !== name) el.setAttribute("aria-label", name);
    }
  };
  if (!rt.observer) {
    rt.observer = new MutationObserver(() => {
      if (!rt.queued) (rt.queued = true), requestAnimationFrame(apply);
    });
    rt.observer.observe(document.body, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["aria-label"],
    });
  }
  apply();
})();"""


def aria_labels(labels: dict[str, str]) -> None:
    """Name elements Streamlit draws without a name of ours (CSS selector -> name): what
    Streamlit writes inside them stays English whatever the language switch says, and
    text drawn by CSS is read by browsers but not by every checker. Drawn in the sidebar,
    where it leaves no gap; names are plain text (an attribute, never markup)."""
    _name_script({"names": labels})


# The English names Streamlit (1.67) gives its own controls, and our catalogue's key for
# each: a Thai screen reader would otherwise read "Fullscreen" or "Show password" on a
# Thai page. A name may go on ("Help for <label>", "Fullscreen: <image>"): the rest stays.
STREAMLIT_NAMES = {
    "Sidebar": "a11y.sidebar",
    "App pages": "a11y.pages",
    "Fullscreen": "a11y.fullscreen",
    "Fullscreen: ": "a11y.fullscreen_of",
    "Close fullscreen": "a11y.close_fullscreen",
    "Exit fullscreen": "a11y.close_fullscreen",
    "Download as CSV": "a11y.download_csv",
    "Search": "a11y.search",
    "Show/hide columns": "a11y.columns",
    "Show password": "a11y.show_password",
    "Hide password": "a11y.hide_password",
    "Increment": "a11y.increment",
    "Decrement": "a11y.decrement",
    "Choose date": "a11y.choose_date",
    "Open": "a11y.open",
    "Close": "a11y.close",
    "Clear all": "a11y.clear",
    "Clear value": "a11y.clear",
    "Help for ": "a11y.help_for",
    "Remove ": "a11y.remove",
    "Add files": "a11y.add_files",
    "day, ": "a11y.day",
    "month, ": "a11y.month",
    "year, ": "a11y.year",
}


def speak_streamlit_in(lang_: str) -> None:
    """Name Streamlit's own controls in the session's language (see STREAMLIT_NAMES);
    drawn on every run from app.py, where the language is known."""
    words = {
        english: i18n.t(lang_, key)
        for english, key in STREAMLIT_NAMES.items()
        if lang_ != "en"  # Streamlit's own names are English: none to rename, some to give back
    }
    skip = {"[data-testid='stSkipToContent']": i18n.t(lang_, "a11y.skip")}  # named by its text
    _name_script({"words": words, "names": skip})


def _name_script(given: dict[str, dict[str, str]]) -> None:
    names = json.dumps(given).replace("<", "\\u003c")  # no name can end the script
    with st.sidebar:
        st.html(f"<script>{_ARIA_LABELS % names}</script>", unsafe_allow_javascript=True)


def base_url() -> str:
    """Where other laptops reach this app: ROUNDTABLE_BASE_URL, else this machine's room
    address and the port this server really listens on (a plain `streamlit run
    --server.port 9000` sets no PORT, and its links said 8501)."""
    return links.base_url(port=int(st.get_option("server.port")))


def client() -> str:
    """The throttle's name for this browser (see models.access.client_key)."""
    forwarded = ", ".join(st.context.headers.get_all("X-Forwarded-For"))
    return access.client_key(st.context.ip_address, {"X-Forwarded-For": forwarded})


def require_identity() -> Identity:
    found = identity()
    if found is None:  # navigation hides every page but home from visitors
        st.stop()
    return found  # type: ignore[return-value]


def guard(page: str) -> Identity:
    """Stop unless this session's role may open `page` (navigation already hides it;
    this is the second lock, for anything that reaches a page another way)."""
    who = identity()
    if who is None and "_app_ran" not in st.session_state:
        # Streamlit serves files in pages/ directly (its older multipage mode) until some
        # session in the process has called st.navigation: a group refreshing its page
        # right after a restart lands here without app.py. Hand over to the entry point,
        # keeping the join code or token from the URL.
        st.session_state["_wanted_page"] = page  # app.py comes back here once signed in
        st.switch_page("app.py", query_params=st.query_params.to_dict())
    if not access.may_open(who.role if who else None, page):
        st.error(tr("error.forbidden"))
        st.stop()
    return who  # type: ignore[return-value]


def workshop() -> Workshop:
    """The workshop this session works on: its own for groups and viewers, chosen for staff."""
    return current()[0]


def current() -> tuple[Workshop, views.Version]:
    """`workshop()` and the version it was read at (for the page's other shared reads).

    The row is shared by every session that reads the same version: one indexed query per
    rerun instead of an ORM load. Callers must not change it.
    """
    who = require_identity()
    workshop_id = who.workshop_id or st.session_state.get("workshop_id")
    if workshop_id is None:
        found = workshops.list_workshops(engine())
        if not found:
            st.info(tr("workshop.none"))
            st.stop()
        workshop_id = found[0].id
        st.session_state["workshop_id"] = workshop_id
    version = views.version(engine(), workshop_id)
    found = views.workshop(engine(), workshop_id, version)
    from pages import _live  # _live builds on this module

    _live.drawn(found, version[0])  # what the follow fragment compares the room with
    return found, version


def is_staff() -> bool:
    who = identity()
    return who is not None and who.role in (Role.ORGANIZER, Role.FACILITATOR)


def domain_label(name: str, name_en: str) -> str:
    return name_en if lang() == "en" and name_en else name


def form_token(scope: str) -> str:
    """An idempotency key for the next submit of a form; renewed after each success."""
    key = f"_token_{scope}"
    if key not in st.session_state:
        st.session_state[key] = uuid.uuid4().hex
    return st.session_state[key]


def renew_form_token(scope: str) -> None:
    st.session_state.pop(f"_token_{scope}", None)


def flash(message: str) -> None:
    """A success message that survives the st.rerun() that follows a command."""
    st.session_state["_flash"] = message


def show_flash() -> None:
    if message := st.session_state.pop("_flash", None):
        st.success(message, icon=":material/check_circle:")


def workshop_caption(
    workshop: Workshop, *, with_title: bool = True, with_phase: bool = True
) -> None:
    """Title and phase (both optional), and dates in the session's calendar, as one line."""
    parts = [md(workshop.title)] if with_title else []
    parts.append(i18n.format_date_range(workshop.starts_on, workshop.ends_on, lang()))
    if with_phase:
        parts.append(f"{tr('workshop.phase')}: {tr(f'phase.{workshop.phase}')}")
    st.caption(" · ".join(parts))


def countdown(workshop: Workshop) -> None:
    """The phase's countdown, ticking in the browser: no server rerun per second."""
    from pages import _live  # _live builds on this module

    _live.countdown(workshop)
