"""Groups' issues: entry rules, ownership, soft delete, idempotent submits."""

from __future__ import annotations

import unicodedata
from concurrent.futures import ThreadPoolExecutor

import pytest

from models import issues, phases, workshops
from models.access import Identity
from models.errors import DomainError, Forbidden, NotFound
from models.issues import IssueInput
from models.schema import Phase, Role
from tests.factories import add_issue, group_identity, make_workshop


def _data(engine, workshop, **fields) -> IssueInput:
    domain = workshops.list_domains(engine, workshop.id)[0]
    return IssueInput(domain_id=domain.id, **({"statement": "ปัญหา"} | fields))


def test_add_stores_nfc_and_plain_text(engine) -> None:
    workshop = make_workshop(engine)
    decomposed = "ครูไม่พอ cafe\u0301 **x** <script>"
    issue = add_issue(engine, workshop, statement=decomposed, affected=["area", "school"])
    assert issue.statement == unicodedata.normalize("NFC", decomposed)
    assert issue.affected == "school,area"  # stored in the vocabulary's order
    assert issues.group_issues(engine, issue.group_id)[0].statement == issue.statement


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"statement": ""}, "error.text.required"),
        ({"statement": "   "}, "error.text.required"),
        ({"statement": "ก" * 2001}, "error.text.too_long"),
        ({"statement": "ok", "cause": "x\x00"}, "error.text.control"),
        ({"statement": "ok", "affected": ["moon"]}, "error.issue.affected"),
    ],
)
def test_invalid_input_is_refused(engine, fields: dict, key: str) -> None:
    workshop = make_workshop(engine)
    with pytest.raises(DomainError) as caught:
        issues.add_issue(
            engine,
            identity=group_identity(engine, workshop),
            data=_data(engine, workshop, **fields),
        )
    assert caught.value.key == key
    assert issues.workshop_issues(engine, workshop.id) == []


def test_domain_must_belong_to_the_workshop(engine) -> None:
    workshop = make_workshop(engine)
    other = make_workshop(engine, slug="other")
    foreign = workshops.list_domains(engine, other.id)[0]
    with pytest.raises(DomainError, match=r"error\.issue\.domain"):
        issues.add_issue(
            engine,
            identity=group_identity(engine, workshop),
            data=IssueInput(domain_id=foreign.id, statement="x"),
        )


def test_unknown_group_or_domain_is_refused(engine) -> None:
    workshop = make_workshop(engine)
    gone = Identity(Role.GROUP, workshop.id, 10_000)
    with pytest.raises(NotFound):
        issues.add_issue(engine, identity=gone, data=_data(engine, workshop), client_token="t")
    with pytest.raises(DomainError, match=r"error\.issue\.domain"):
        issues.add_issue(
            engine,
            identity=group_identity(engine, workshop),
            data=IssueInput(domain_id=10_000, statement="x"),
            client_token="t",
        )
    assert issues.workshop_issues(engine, workshop.id) == []


def test_resubmit_after_the_phase_moved_on_answers_with_the_stored_issue(engine) -> None:
    # The acknowledgement was lost just before the facilitator closed collecting: the
    # browser's retry must get its issue back, not an error that reads like a loss.
    workshop = make_workshop(engine)
    who = group_identity(engine, workshop)
    stored = issues.add_issue(engine, identity=who, data=_data(engine, workshop), client_token="k")
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.GROUP)
    again = issues.add_issue(engine, identity=who, data=_data(engine, workshop), client_token="k")
    assert again.id == stored.id
    with pytest.raises(DomainError, match=r"error\.phase\.enter_issue"):
        issues.add_issue(engine, identity=who, data=_data(engine, workshop), client_token="new")


@pytest.mark.parametrize("phase", [p for p in Phase if p is not Phase.COLLECT])
def test_entry_only_in_collect_phase(engine, phase: Phase) -> None:
    workshop = make_workshop(engine)
    issue = add_issue(engine, workshop)
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=phase)
    who = group_identity(engine, workshop)
    for attempt in (
        lambda: issues.add_issue(engine, identity=who, data=_data(engine, workshop)),
        lambda: issues.edit_issue(
            engine, identity=who, issue_id=issue.id, data=_data(engine, workshop)
        ),
        lambda: issues.delete_issue(engine, identity=who, issue_id=issue.id),
    ):
        with pytest.raises(DomainError) as caught:
            attempt()
        assert caught.value.key == "error.phase.enter_issue"


def test_group_edits_and_deletes_only_its_own(engine) -> None:
    workshop = make_workshop(engine)
    theirs = add_issue(engine, workshop, group=1)
    mine = group_identity(engine, workshop, 0)
    with pytest.raises(Forbidden):
        issues.edit_issue(engine, identity=mine, issue_id=theirs.id, data=_data(engine, workshop))
    with pytest.raises(Forbidden):
        issues.delete_issue(engine, identity=mine, issue_id=theirs.id)
    assert issues.group_issues(engine, theirs.group_id)[0].statement == "ครูไม่พอ"


def test_only_groups_add_issues(engine) -> None:
    workshop = make_workshop(engine)
    with pytest.raises(Forbidden):
        issues.add_issue(
            engine, identity=Identity(Role.VIEWER, workshop.id), data=_data(engine, workshop)
        )


def test_edit_keeps_history_in_audit(engine) -> None:
    workshop = make_workshop(engine)
    issue = add_issue(engine, workshop, statement="เดิม")
    edited = issues.edit_issue(
        engine,
        identity=group_identity(engine, workshop),
        issue_id=issue.id,
        data=_data(engine, workshop, statement="ใหม่", fix="แก้ไข"),
    )
    assert (edited.statement, edited.fix) == ("ใหม่", "แก้ไข")


def test_soft_delete_and_restore(engine) -> None:
    workshop = make_workshop(engine)
    issue = add_issue(engine, workshop)
    who = group_identity(engine, workshop)
    issues.delete_issue(engine, identity=who, issue_id=issue.id)
    assert issues.group_issues(engine, issue.group_id) == []
    assert len(issues.workshop_issues(engine, workshop.id, include_deleted=True)) == 1
    with pytest.raises(DomainError):
        issues.edit_issue(engine, identity=who, issue_id=issue.id, data=_data(engine, workshop))
    issues.restore_issue(engine, identity=who, issue_id=issue.id)
    assert [i.id for i in issues.group_issues(engine, issue.group_id)] == [issue.id]


@pytest.mark.parametrize("phase", [Phase.GROUP, Phase.VOTE, Phase.PRESENT])
def test_a_group_cannot_undo_its_delete_after_the_phase_moved_on(engine, phase: Phase) -> None:
    """The issue's case: deleted while collecting, restored during the vote."""
    workshop = make_workshop(engine)
    issue = add_issue(engine, workshop)
    who = group_identity(engine, workshop)
    issues.delete_issue(engine, identity=who, issue_id=issue.id)
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=phase)
    with pytest.raises(DomainError, match=r"error\.phase\.enter_issue"):
        issues.restore_issue(engine, identity=who, issue_id=issue.id)
    assert issues.group_issues(engine, issue.group_id) == []  # still deleted
    # The facilitator may still bring it back (their undo works in every phase).
    staff = Identity(Role.FACILITATOR, workshop.id)
    issues.restore_issue(engine, identity=staff, issue_id=issue.id)
    assert [i.id for i in issues.group_issues(engine, issue.group_id)] == [issue.id]


def test_newest_first_and_counts(engine) -> None:
    workshop = make_workshop(engine)
    for n in range(3):
        add_issue(engine, workshop, statement=f"ข้อ {n}", domain=n % 2)
    mine = issues.group_issues(engine, workshops.list_groups(engine, workshop.id)[0].id)
    assert [i.statement for i in mine] == ["ข้อ 2", "ข้อ 1", "ข้อ 0"]
    domains = workshops.list_domains(engine, workshop.id)
    assert issues.count_by_domain(mine) == {domains[0].id: 2, domains[1].id: 1}


def test_same_client_token_stores_once(engine) -> None:
    workshop = make_workshop(engine)
    who = group_identity(engine, workshop)
    data = _data(engine, workshop, statement="กดสองครั้ง")

    def submit(_: int):
        return issues.add_issue(engine, identity=who, data=data, client_token="tok-1").id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(submit, range(16)))
    assert len(ids) == 1
    assert len(issues.workshop_issues(engine, workshop.id)) == 1
