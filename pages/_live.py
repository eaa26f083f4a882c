"""The live room: every open screen follows the workshop, countdowns tick, typing survives.

Following: one small fragment per session (`follow`, started by app.py) asks every
FOLLOW_SECONDS whether the room changed since its page was drawn, and reruns the whole
page when it did. A group's or viewer's page depends on the phase, the reveal and the
countdown, so only those count for them: another group's submit does not rerun twenty
group pages. Staff pages show everything, so for them any change counts. The question
costs one dict lookup: `dashboard.version` is one indexed query shared by every session
of the process for half a second, and the room's state is read once per version change
and shared by every session.

Countdowns and drafts live in the browser (static/live.js, run through
`st.html(..., unsafe_allow_javascript=True)`: not an iframe, so Sarabun and the page's
width apply; `st.components.v1.html` is deprecated since 1.67). The deadline passing is
part of the room's state, so the page reruns at zero and says the time is up.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from models import dashboard, workshops
from models.db import Engine
from models.schema import Workshop, utcnow
from pages import _ui

FOLLOW_SECONDS = 2.0  # a change shows within this plus dashboard.VERSION_TTL (< 3 s)
_SCRIPT = (Path(__file__).resolve().parent.parent / "static" / "live.js").read_text("utf-8")


@dataclass(frozen=True)
class Room:
    """What a group's or viewer's page depends on, besides its own data."""

    phase: str
    revealed: bool
    deadline: dt.datetime | None

    def signature(self, now: dt.datetime) -> tuple[str, bool, dt.datetime | None, bool]:
        passed = self.deadline is not None and now >= self.deadline
        return (self.phase, self.revealed, self.deadline, passed)


def room_of(workshop: Workshop) -> Room:
    deadline = workshop.phase_deadline
    if deadline is not None and deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=dt.UTC)
    return Room(str(workshop.phase), bool(workshop.revealed), deadline)


_rooms: dict[tuple[int, int], tuple[int, Room]] = {}
_rooms_lock = threading.Lock()


def room(engine: Engine, workshop_id: int) -> tuple[int, Room]:
    """The workshop's version and room state, read once per version for the whole process."""
    version = dashboard.version(engine, workshop_id)
    key = (id(engine), workshop_id)
    found = _rooms.get(key)
    if found is not None and found[0] == version:
        return found
    with _rooms_lock:  # one reader per change; the others wait for its answer
        found = _rooms.get(key)
        if found is None or found[0] != version:
            found = _rooms[key] = (
                version,
                room_of(workshops.get_workshop(engine, workshop_id=workshop_id)),
            )
    return found


def drawn(workshop: Workshop, version: int) -> None:
    """Note what this page is drawn with (called by `_ui.current`, once per page run)."""
    st.session_state["_room_drawn"] = (
        workshop.id,
        version,
        room_of(workshop).signature(utcnow()),
    )


def changed(
    noted: tuple[int, int, tuple[object, ...]],
    version: int,
    state: Room,
    *,
    staff: bool,
    now: dt.datetime | None = None,
) -> bool:
    """Whether the room moved on from what the page was drawn with.

    Staff also follow every newer version. Only newer: the shared version may be up to
    VERSION_TTL older than the one the page read after its own command, which must not
    rerun the page once more.
    """
    _, drawn_version, drawn_room = noted
    if state.signature(now or utcnow()) != drawn_room:
        return True
    return staff and version > drawn_version


# Pages that already rerun a fragment on a timer check the room there (`check`) instead of
# paying for a second timer per open tab: the dashboard's refresh, the projector's watch.
OWN_TIMER = frozenset({"overview", "present"})
# Pages that offer files hold still: a rerun drops the files its download buttons point
# at (Streamlit builds a deferred file when the browser fetches it, from the run that drew
# the button), so a download started while groups submitted was cancelled. Nothing on
# them depends on the room: each file is built when it is asked for.
HOLD_STILL = frozenset({"organizer_data", "organizer_join"})


@st.fragment(run_every=FOLLOW_SECONDS)
def follow() -> None:
    """Rerun the page when the room changed since it was drawn (see the module docstring).

    Draws nothing. In the page's own run it does nothing either: the page is being drawn
    from the current state right then, and notes it through `drawn`.
    """
    ctx = get_script_run_ctx()
    if ctx is None or not ctx.fragment_ids_this_run:
        return
    check()


def check() -> None:
    """Rerun the whole page if the room moved on since it was drawn (from a fragment's run:
    `follow`, or a page's own timed fragment, see OWN_TIMER)."""
    noted = st.session_state.get("_room_drawn")
    if noted is None:
        return  # a page without a workshop (home)
    version, state = room(_ui.engine(), noted[0])
    if changed(noted, version, state, staff=_ui.is_staff()):
        st.rerun()


def _script() -> str:
    return f"<script>{_SCRIPT}</script>"


def countdown(workshop: Workshop) -> None:
    """The phase's countdown, ticking in the browser (no server rerun per second); wraps
    on a narrow screen. Past the deadline it says the time is up."""
    deadline = room_of(workshop).deadline
    if deadline is None:
        return
    done = html.escape(_ui.tr("phase.time_up"))
    style = "font-weight:600;font-size:1.5rem;line-height:1.4;color:#1f4e9c;overflow-wrap:anywhere"
    if utcnow() >= deadline:
        body = f'<div class="rt-countdown rt-up" style="{style}">{done}</div>'
    else:
        label = html.escape(_ui.tr("phase.countdown", phase=_ui.tr(f"phase.{workshop.phase}")))
        end = int(deadline.timestamp() * 1000)
        minutes, seconds = divmod(int((deadline - utcnow()).total_seconds()), 60)
        hours, minutes = divmod(minutes, 60)
        clock = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
        body = (
            f'<div class="rt-countdown" data-end="{end}" data-done="{done}" style="{style}">'
            f'{label} <span class="rt-clock" style="white-space:nowrap">'
            f"{clock}</span></div>"
        )
    st.html(body + _script(), unsafe_allow_javascript=True)


def draft(
    key: str, prefix: str, fields: tuple[str, ...], *, max_chars: int, cleared: object = None
) -> None:
    """Keep what is typed into the text areas `prefix`+field in this browser (localStorage
    under `key`) until the server confirms the save (`cleared`: a new value each save).

    Streamlit sends a text area's value only on submit (or blur), so the text of an
    unsaved entry exists only in the browser: it survives a reload, a dropped
    connection or a restarted server only if the browser keeps it.
    """
    attributes = {
        "class": "rt-draft",
        "data-key": key,
        "data-prefix": prefix,
        "data-fields": ",".join(fields),
        "data-max": str(max_chars),
        "data-too-long": _ui.tr("issue.too_long_typed", length="{length}", max="{max}"),
    }
    if cleared is not None:
        attributes["data-clear"] = str(cleared)
    shown = " ".join(f'{name}="{html.escape(value)}"' for name, value in attributes.items())
    st.html(f"<div {shown} hidden></div>{_script()}", unsafe_allow_javascript=True)


def draft_key(workshop_id: int, group_id: int) -> str:
    return "roundtable-draft:" + json.dumps([workshop_id, group_id])
