"""Setting up a workshop: its fields, groups and domains, each change audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from models import audit, db, workshops
from models.errors import DomainError
from models.schema import AuditEvent
from models.workshops import WorkshopInput
from tests.factories import add_issue, make_workshop


def _input(**changes) -> WorkshopInput:
    base = {"title": "ประชุม", "starts_on": dt.date(2018, 3, 14), "ends_on": dt.date(2018, 3, 16)}
    return WorkshopInput(**(base | changes))


def _actions(engine, workshop_id: int) -> list[str]:
    with db.read(engine) as session:
        return [e.action for e in reversed(audit.events(session, workshop_id))]


def test_create_workshop_with_groups_and_domains(engine) -> None:
    workshop = make_workshop(engine, groups=4)
    assert [g.name for g in workshops.list_groups(engine, workshop.id)] == [
        "กลุ่ม 1",
        "กลุ่ม 2",
        "กลุ่ม 3",
        "กลุ่ม 4",
    ]
    assert [d.name for d in workshops.list_domains(engine, workshop.id)] == ["วิชาการ", "งบประมาณ"]
    assert len({g.join_code for g in workshops.list_groups(engine, workshop.id)}) == 4
    assert _actions(engine, workshop.id) == ["workshop.create"]  # one command, one event


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"title": "  "}, "error.text.required"),
        ({"ends_on": dt.date(2018, 3, 1)}, "error.workshop.dates"),
        ({"vote_budget": 0}, "error.workshop.vote_budget"),
        ({"vote_budget": 51}, "error.workshop.vote_budget"),
        ({"vote_budget": 3, "max_votes_per_theme": 4}, "error.workshop.max_per_theme"),
        ({"title": "a\nb"}, "error.text.control"),
    ],
)
def test_workshop_input_refused(engine, changes: dict, key: str) -> None:
    with pytest.raises(DomainError) as caught:
        workshops.create_workshop(engine, actor="t", data=_input(**changes))
    assert caught.value.key == key
    assert workshops.list_workshops(engine) == []


@pytest.mark.parametrize("slug", ["Has Space", "ไทย", "x", "-lead"])
def test_bad_slug(engine, slug: str) -> None:
    with pytest.raises(DomainError, match=r"error\.workshop\.slug$"):
        workshops.create_workshop(engine, actor="t", data=_input(), slug=slug)


def test_slug_taken(engine) -> None:
    make_workshop(engine, slug="same")
    with pytest.raises(DomainError, match="slug_taken"):
        make_workshop(engine, slug="same")


def test_update_workshop_records_before_and_after(engine) -> None:
    workshop = make_workshop(engine)
    workshops.update_workshop(
        engine,
        actor="organizer",
        workshop_id=workshop.id,
        data=_input(title="ชื่อใหม่", venue="ห้อง 1"),
    )
    stored = workshops.get_workshop(engine, workshop_id=workshop.id)
    assert (stored.title, stored.venue) == ("ชื่อใหม่", "ห้อง 1")
    with db.read(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "workshop.update")).one()
    assert event.before["title"] == "การประชุมทดสอบ"
    assert event.after["title"] == "ชื่อใหม่"


def test_groups_add_rename_reorder_remove(engine) -> None:
    workshop = make_workshop(engine, groups=2)
    added = workshops.add_group(engine, actor="o", workshop_id=workshop.id, name=" กลุ่มพิเศษ ")
    assert added.name == "กลุ่มพิเศษ"
    with pytest.raises(DomainError, match="name_taken"):
        workshops.add_group(engine, actor="o", workshop_id=workshop.id, name="กลุ่ม 1")
    workshops.rename_group(engine, actor="o", group_id=added.id, name="ส่วนกลาง")
    workshops.move(engine, actor="o", kind="group", row_id=added.id, offset=-1)
    assert [g.name for g in workshops.list_groups(engine, workshop.id)] == [
        "กลุ่ม 1",
        "ส่วนกลาง",
        "กลุ่ม 2",
    ]
    workshops.move(engine, actor="o", kind="group", row_id=added.id, offset=-5)  # no-op at edge
    workshops.remove_group(engine, actor="o", group_id=added.id)
    assert len(workshops.list_groups(engine, workshop.id)) == 2


def test_group_with_issues_cannot_be_removed(engine) -> None:
    workshop = make_workshop(engine)
    add_issue(engine, workshop, group=0)
    first = workshops.list_groups(engine, workshop.id)[0]
    with pytest.raises(DomainError, match="not_empty"):
        workshops.remove_group(engine, actor="o", group_id=first.id)


def test_regenerate_code_changes_it_and_keeps_it_out_of_the_log(engine) -> None:
    workshop = make_workshop(engine)
    group = workshops.list_groups(engine, workshop.id)[0]
    renewed = workshops.regenerate_code(engine, actor="o", group_id=group.id)
    assert renewed.join_code != group.join_code
    with db.read(engine) as session:
        logged = str([(e.before, e.after) for e in audit.events(session, workshop.id)])
    assert renewed.join_code not in logged


def test_domains_add_rename_reorder_remove(engine) -> None:
    workshop = make_workshop(engine)
    added = workshops.add_domain(
        engine, actor="o", workshop_id=workshop.id, name="บริหารทั่วไป", name_en="General"
    )
    workshops.rename_domain(
        engine, actor="o", domain_id=added.id, name="บริหารงานทั่วไป", name_en="General admin"
    )
    workshops.move(engine, actor="o", kind="domain", row_id=added.id, offset=-2)
    assert [d.name for d in workshops.list_domains(engine, workshop.id)] == [
        "บริหารงานทั่วไป",
        "วิชาการ",
        "งบประมาณ",
    ]
    first = workshops.list_domains(engine, workshop.id)[1]
    add_issue(engine, workshop, domain=1)
    with pytest.raises(DomainError, match="not_empty"):
        workshops.remove_domain(engine, actor="o", domain_id=first.id)
    workshops.remove_domain(engine, actor="o", domain_id=added.id)
    assert len(workshops.list_domains(engine, workshop.id)) == 2
    assert _actions(engine, workshop.id)[-1] == "domain.remove"
