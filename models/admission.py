"""Admission control: script runs of sessions nobody has identified yet take turns.

Every new browser tab (the home page, a viewer's first load, a refresh) runs the app's
script in a thread of its own. A storm of them — 300 tabs opened from one address in ten
seconds, by a misbehaving client or by a whole venue behind one NAT address — kept the
interpreter lock busy with their runs, and Streamlit's event loop, which needs that lock
for every message of every tab (and waits for each new script thread to start), fell
behind: a group's submit took seconds.

So runs without an identity go through a process-wide gate: `slots` at a time, first come
first served; while others queue, each holder rests after its run for as long as the run
took times (1/share − 1) before the next may start, so together they keep the interpreter
at most `share` of the time; a waiting thread holds no lock and costs no CPU. Sessions that carry
an identity (groups, staff, viewers after their first run) never wait. It is not a cap
per address: a venue's laptops share one, and each of them still gets its turn.

Measured with `benchmarks/load.py --storm 300` (10 groups submitting, 300 new tabs from one
address in 10 s, 2 cores): the other groups' submits during the storm went from p50 678 /
p95 2,715 ms to 145 / 549 ms; the storm's own tabs wait their turn (p50 9.5 s, all loaded
after 22 s instead of 12 s). A group laptop that reloads during a storm waits with them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

SLOTS_ENV = "ROUNDTABLE_ANONYMOUS_SLOTS"
SHARE_ENV = "ROUNDTABLE_ANONYMOUS_SHARE"
SWITCH_ENV = "ROUNDTABLE_SWITCH_INTERVAL_MS"
# One anonymous run at a time: the lock lets one thread run Python at any moment anyway.
DEFAULT_SLOTS = 1
# At most half of the interpreter's time for sessions nobody has identified.
DEFAULT_SHARE = 0.5
# A slow run (a cold cache) rests at most this long: newcomers must not wait for minutes.
MAX_REST_SECONDS = 1.0
# Never wait forever: a run stuck for this long (a slow disk, a hung query) must not shut
# every newcomer out, so after it the run goes ahead without a turn.
MAX_WAIT_SECONDS = 30.0


@dataclass
class GateStats:
    """What the gate has done since the process started (for benchmarks and logs)."""

    admitted: int = 0
    waited: int = 0  # runs that found every slot taken
    wait_seconds: float = 0.0
    longest_wait: float = 0.0
    timed_out: int = 0


class Gate:
    """At most `slots` holders at a time, the others waiting in arrival order; a holder
    rests `(1/share − 1)` × its own run time before it lets the next one in."""

    def __init__(self, slots: int, share: float = 1.0) -> None:
        self.slots = max(1, slots)
        self.share = min(1.0, max(0.05, share))
        self._semaphore = threading.BoundedSemaphore(self.slots)
        self._lock = threading.Lock()
        self._waiting = 0
        self.stats = GateStats()

    @contextlib.contextmanager
    def turn(self, *, timeout: float = MAX_WAIT_SECONDS) -> Iterator[None]:
        """Hold one slot for the duration of the block (wait for one if none is free)."""
        began = time.monotonic()
        acquired = self._semaphore.acquire(blocking=False)
        if not acquired:
            with self._lock:
                self._waiting += 1
            acquired = self._semaphore.acquire(timeout=timeout)
            waited = time.monotonic() - began
            with self._lock:
                self._waiting -= 1
                self.stats.waited += 1
                self.stats.wait_seconds += waited
                self.stats.longest_wait = max(self.stats.longest_wait, waited)
                self.stats.timed_out += not acquired
        with self._lock:
            self.stats.admitted += 1
        started = time.monotonic()
        try:
            yield
        finally:
            if acquired:
                if self._waiting:  # a queue: rest, keeping the slot, so others get the
                    # interpreter (the sleeping thread holds no lock); alone, go at once
                    ran = time.monotonic() - started
                    time.sleep(min(MAX_REST_SECONDS, ran * (1 / self.share - 1)))
                self._semaphore.release()


def _number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


ANONYMOUS = Gate(int(_number(SLOTS_ENV, DEFAULT_SLOTS)), _number(SHARE_ENV, DEFAULT_SHARE))


def turn(*, identified: bool) -> contextlib.AbstractContextManager[None]:
    """The context a script run goes through: none for an identified session, else a
    turn at the anonymous gate."""
    return contextlib.nullcontext() if identified else ANONYMOUS.turn()


def _tune_switch_interval() -> None:
    """Set the interpreter's thread switch interval if `ROUNDTABLE_SWITCH_INTERVAL_MS` asks.

    Streamlit's event loop starts a thread for every script run and waits until that
    thread has run its first line, and it needs the lock back after every socket read and
    write: while a script thread computes, each of those waits up to a switch interval.
    1 ms instead of Python's 5 ms helped a storm a little, but measured on this 2-core
    machine it cost every ordinary action ~28 % more CPU (200 dashboards refreshing: 22.0
    against 17.2 ms per action, p50 2.8 s against 91 ms), and with the gate alone a storm
    of 300 tabs kept other groups' submit p95 at 336 ms. So the default leaves Python's.
    """
    milliseconds = _number(SWITCH_ENV, 0.0)
    if milliseconds > 0:
        sys.setswitchinterval(milliseconds / 1000)


_tune_switch_interval()
