"""Hints while a group types (models/views.py `draft_hints`): other groups' close
statements for a draft that is not stored. The browser side is in
tests/browser/test_typing_hints.py; here the rules, on the lexical backend (no model)."""

from __future__ import annotations

import pytest

from models import embeddings, phases, themes, views, workshops
from tests import factories

THEIRS = "ครูไม่เพียงพอในโรงเรียนขนาดเล็ก ครูหนึ่งคนต้องสอนหลายชั้นเรียน"
DRAFT = "โรงเรียนขนาดเล็กมีครูไม่เพียงพอ ครูต้องสอนหลายชั้น"
UNRELATED = "งบประมาณซ่อมแซมอาคารเรียนมาล่าช้ากว่ากำหนด"


@pytest.fixture(autouse=True)
def _lexical(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(embeddings.ENV, "lexical")


def _view(engine, workshop, group: int) -> views.GroupView:
    fresh = workshops.get_workshop(engine, workshop_id=workshop.id)
    group_id = workshops.list_groups(engine, workshop.id)[group].id
    return views.group_view(
        engine, workshop.id, group_id, fresh.revealed, views.version(engine, workshop.id)
    )


def test_draft_finds_other_groups_close_statement_only_after_reveal(engine) -> None:
    workshop = factories.make_workshop(engine, groups=3)
    theirs = factories.add_issue(engine, workshop, group=1, statement=THEIRS)
    factories.add_issue(engine, workshop, group=2, statement=UNRELATED)
    factories.add_issue(engine, workshop, group=0, statement=THEIRS + " ของเราเอง")
    assert views.draft_hints(_view(engine, workshop, 0), DRAFT) == []  # silent generation

    phases.set_reveal(engine, actor="facilitator", workshop_id=workshop.id, revealed=True)
    found = views.draft_hints(_view(engine, workshop, 0), DRAFT)
    assert [s.issue.id for s in found] == [theirs.id]  # not our own, not the unrelated one
    assert found[0].issue.statement == THEIRS
    assert found[0].score >= embeddings.backend().duplicate_threshold

    themes.hide_issues(
        engine, actor="facilitator", workshop_id=workshop.id, issue_ids=[theirs.id], reason="x"
    )
    assert views.draft_hints(_view(engine, workshop, 0), DRAFT) == []  # hidden: not shown


@pytest.mark.parametrize("draft", ["", "   ", "ครู", "  ครูไม่  "])
def test_a_draft_too_short_or_empty_gets_no_hint(engine, draft: str) -> None:
    workshop = factories.make_workshop(engine, groups=2)
    factories.add_issue(engine, workshop, group=1, statement="ครูไม่พอ")
    phases.set_reveal(engine, actor="facilitator", workshop_id=workshop.id, revealed=True)
    assert views.draft_hints(_view(engine, workshop, 0), draft) == []


def test_query_vector_is_the_stored_kind_and_cached() -> None:
    first = embeddings.query_vector(DRAFT)
    assert first is not None and embeddings.backend().fits(first, DRAFT)
    assert embeddings.query_vector(DRAFT) is first  # a second pause on the same text
    assert embeddings.vector_for(f"  {DRAFT}\n") is first  # then stored: no second encode


def test_pages_do_not_wait_for_a_loading_model(engine, monkeypatch) -> None:
    """The first minute after a start EmbeddingGemma loads in the background: a group's
    page is drawn without hints meanwhile (asking the model would wait for it), then
    with them once it is there, at the same version of the workshop."""
    workshop = factories.make_workshop(engine, groups=2)
    mine = factories.add_issue(engine, workshop, group=0, statement=DRAFT)
    factories.add_issue(engine, workshop, group=1, statement=THEIRS)
    phases.set_reveal(engine, actor="facilitator", workshop_id=workshop.id, revealed=True)
    loaded = embeddings.backend()

    def waits() -> embeddings.Backend:
        raise AssertionError("a page asked the loading model")

    monkeypatch.setattr(embeddings, "loading", lambda: True)
    monkeypatch.setattr(embeddings, "backend", waits)
    assert _view(engine, workshop, 0).hints == {}
    assert views.draft_hints(_view(engine, workshop, 0), DRAFT) == []
    monkeypatch.setattr(embeddings, "loading", lambda: False)
    monkeypatch.setattr(embeddings, "backend", lambda: loaded)
    assert list(_view(engine, workshop, 0).hints) == [mine.id]
