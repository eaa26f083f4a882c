"""The browser tests' run tracker (conftest.TRACK_RUNS) reads Streamlit's own messages.

It knows a run ended early for another (st.rerun, st.switch_page) by one field of the
ForwardMsg protobuf. Messages built here by Streamlit's own classes, with the fields that
come before it in real ones: if an upgrade of Streamlit moved that field, this fails
instead of wait_idle silently returning between two runs again.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

pytestmark = pytest.mark.browser

# Dispatch `bytes` to a WebSocket as a message from the server; the tracker's verdict after.
DELIVER = """(bytes) => {
  const socket = new WebSocket("ws://127.0.0.1:9/");  // never connects: only its events
  socket.dispatchEvent(new MessageEvent("message", { data: new Uint8Array(bytes).buffer }));
  socket.close();
  return window.__runs.rerunDue;
}"""


def _finished(status: ForwardMsg.ScriptFinishedStatus.ValueType) -> list[int]:
    message = ForwardMsg(hash="a" * 32, script_finished=status)
    message.metadata.delta_path.extend([0, 3, 1])
    message.metadata.active_script_hash = "b" * 32
    return list(message.SerializeToString())


def test_the_tracker_knows_a_run_ended_early_for_the_next(
    new_page: Callable[[str], Page],
) -> None:
    page = new_page("tracker")
    page.goto("about:blank")
    assert page.evaluate(DELIVER, _finished(ForwardMsg.FINISHED_EARLY_FOR_RERUN)) is True
    # A delta or a status change on the way does not end the wait; the next run's end does.
    delta = ForwardMsg(hash="c" * 32)
    delta.delta.new_element.markdown.body = "ประเด็น" * 40
    assert page.evaluate(DELIVER, list(delta.SerializeToString())) is True
    status = ForwardMsg()
    status.session_status_changed.script_is_running = True
    assert page.evaluate(DELIVER, list(status.SerializeToString())) is True
    assert page.evaluate(DELIVER, _finished(ForwardMsg.FINISHED_SUCCESSFULLY)) is False
    assert page.evaluate(DELIVER, _finished(ForwardMsg.FINISHED_EARLY_FOR_RERUN)) is True
    assert page.evaluate(DELIVER, _finished(ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)) is False
