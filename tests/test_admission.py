"""Admission control: runs of sessions without an identity take turns; identified ones never
wait. The storm figures themselves come from `benchmarks/load.py --storm`."""

from __future__ import annotations

import contextlib
import threading

import pytest
from streamlit.testing.v1 import AppTest

from models import admission
from models.access import Identity
from models.schema import Role

APP = str(admission.__file__).replace("models/admission.py", "app.py")


def test_a_full_gate_makes_the_next_run_wait_for_a_turn() -> None:
    gate = admission.Gate(1)
    entered = threading.Event()

    def newcomer() -> None:
        with gate.turn():
            entered.set()

    with gate.turn():
        assert not gate._semaphore.acquire(blocking=False)  # the only slot is taken
        waiting = threading.Thread(target=newcomer)
        waiting.start()
        assert not entered.is_set()
    waiting.join(timeout=10)
    assert entered.is_set()
    assert (gate.stats.admitted, gate.stats.timed_out) == (2, 0)


def test_a_wait_has_an_end_and_never_frees_a_slot_it_did_not_take() -> None:
    gate = admission.Gate(1)
    with gate.turn(), gate.turn(timeout=0):  # no slot: goes ahead anyway
        pass
    assert gate.stats.timed_out == 1
    with gate.turn():  # the one slot is there again, and only one
        assert not gate._semaphore.acquire(blocking=False)


def test_identified_sessions_never_wait() -> None:
    with contextlib.ExitStack() as full:
        for _ in range(admission.ANONYMOUS.slots):
            full.enter_context(admission.ANONYMOUS.turn())
        done = threading.Event()

        def group_run() -> None:
            with admission.turn(identified=True):
                done.set()

        runner = threading.Thread(target=group_run)
        runner.start()
        runner.join(timeout=10)
        assert done.is_set()  # went ahead although every anonymous slot was taken


@pytest.mark.parametrize(("identity", "gated"), [(None, True), (Identity(Role.GROUP, 1, 1), False)])
def test_the_app_runs_a_new_session_through_the_gate(demo_db, identity, gated) -> None:
    at = AppTest.from_file(APP, default_timeout=30)
    if identity is not None:
        at.session_state["identity"] = identity
    before = admission.ANONYMOUS.stats.admitted
    at.run()
    assert not at.exception
    assert admission.ANONYMOUS.stats.admitted == before + gated
