"""The follow check (pages/_live.py): what reruns whose page, read once per version.

The browser side (the fragment firing, countdowns, drafts) is tested end to end in
tests/browser/test_live_room.py; here the decisions, on a real database.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine

from models import dashboard, phases
from models.schema import Phase, utcnow
from pages import _live
from tests.factories import add_issue, make_workshop


def _now_drawn(engine: Engine, workshop_id: int) -> tuple[int, int, tuple[object, ...]]:
    """What a page drawn right now notes (as `_live.drawn` does)."""
    dashboard._versions.clear()  # the newest version, not the one shared for VERSION_TTL
    version, state = _live.room(engine, workshop_id)
    return (workshop_id, version, state.signature(utcnow()))


def _check(engine: Engine, noted: tuple[int, int, tuple[object, ...]], *, staff: bool) -> bool:
    dashboard._versions.clear()
    version, state = _live.room(engine, noted[0])
    return _live.changed(noted, version, state, staff=staff)


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    """Both caches are keyed by the engine's id, which a later test's engine may reuse."""
    _live._rooms.clear()
    dashboard._versions.clear()


def test_another_groups_issue_reruns_staff_pages_only(engine: Engine) -> None:
    workshop = make_workshop(engine)
    noted = _now_drawn(engine, workshop.id)  # type: ignore[arg-type]
    assert not _check(engine, noted, staff=False)
    assert not _check(engine, noted, staff=True)
    add_issue(engine, workshop, group=1)
    assert not _check(engine, noted, staff=False)  # twenty group pages stay put
    assert _check(engine, noted, staff=True)


@pytest.mark.parametrize(
    "change",
    [
        {"phase": Phase.GROUP},
        {"phase": Phase.COLLECT, "deadline": dt.timedelta(minutes=5)},
        "reveal",
    ],
    ids=["phase", "countdown", "reveal"],
)
def test_phase_reveal_and_countdown_rerun_every_page(engine: Engine, change: object) -> None:
    workshop = make_workshop(engine)
    noted = _now_drawn(engine, workshop.id)  # type: ignore[arg-type]
    if change == "reveal":
        phases.set_reveal(engine, actor="t", workshop_id=workshop.id, revealed=True)  # type: ignore[arg-type]
    else:
        assert isinstance(change, dict)
        deadline = utcnow() + change["deadline"] if "deadline" in change else None
        phases.set_phase(
            engine,
            actor="t",
            workshop_id=workshop.id,  # type: ignore[arg-type]
            phase=change["phase"],
            deadline=deadline,
        )
    assert _check(engine, noted, staff=False)
    assert _check(engine, noted, staff=True)


def test_the_countdown_reaching_zero_reruns_the_page(engine: Engine) -> None:
    workshop = make_workshop(engine)
    deadline = utcnow() + dt.timedelta(minutes=1)
    phases.set_phase(
        engine,
        actor="t",
        workshop_id=workshop.id,  # type: ignore[arg-type]
        phase=Phase.COLLECT,
        deadline=deadline,
    )
    version, state = _live.room(engine, workshop.id)  # type: ignore[arg-type]
    before_zero = deadline - dt.timedelta(seconds=1)
    before = state.signature(before_zero)
    assert before != state.signature(deadline)  # passing zero changes what pages show
    noted = (workshop.id, version, before)
    assert not _live.changed(noted, version, state, staff=False, now=before_zero)  # type: ignore[arg-type]
    assert _live.changed(noted, version, state, staff=False, now=deadline)  # type: ignore[arg-type]


def test_an_older_shared_version_does_not_rerun_staff(engine: Engine) -> None:
    """After a staff command the page reads the newest version while the shared one may
    be half a second old: that must not rerun the page once more."""
    workshop = make_workshop(engine)
    version, state = _live.room(engine, workshop.id)  # type: ignore[arg-type]
    noted = (workshop.id, version + 5, state.signature(utcnow()))
    assert not _live.changed(noted, version, state, staff=True)  # type: ignore[arg-type]


def test_the_room_is_read_once_per_version(engine: Engine, monkeypatch) -> None:
    workshop = make_workshop(engine)
    reads: list[int] = []
    original = _live.workshops.get_workshop

    def counting(engine: Engine, *, workshop_id: int):  # type: ignore[no-untyped-def]
        reads.append(workshop_id)
        return original(engine, workshop_id=workshop_id)

    monkeypatch.setattr(_live.workshops, "get_workshop", counting)
    for _ in range(50):  # fifty idle pages asking
        _live.room(engine, workshop.id)  # type: ignore[arg-type]
    assert len(reads) == 1
    add_issue(engine, workshop)
    dashboard._versions.clear()  # past the version's sharing time
    for _ in range(50):
        _live.room(engine, workshop.id)  # type: ignore[arg-type]
    assert len(reads) == 2


def test_follow_interval_meets_the_target() -> None:
    """A change shows within one follow interval plus the version's sharing time."""
    assert _live.FOLLOW_SECONDS + dashboard.VERSION_TTL < 3
    # Pages that check the room in their own timed fragment follow as fast.
    assert dashboard.REFRESH_SECONDS + dashboard.VERSION_TTL <= 3
    assert set(_live.OWN_TIMER) == {"overview", "present"}
