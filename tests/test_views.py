"""The shared read models of the busy pages (models/views.py): fresh after every command."""

from __future__ import annotations

from models import issues, phases, themes, views, votes, workshops
from models.access import Identity
from models.schema import Phase, Role
from tests import factories


def _view(engine, workshop, group: int):
    fresh = workshops.get_workshop(engine, workshop_id=workshop.id)
    group_id = workshops.list_groups(engine, workshop.id)[group].id
    return views.group_view(
        engine, workshop.id, group_id, fresh.revealed, views.version(engine, workshop.id)
    )


def test_group_view_follows_every_command(engine) -> None:
    workshop = factories.make_workshop(engine, groups=3)
    first = factories.add_issue(engine, workshop, group=0, statement="ครูไม่พอ")
    view = _view(engine, workshop, 0)
    assert [i.statement for i in view.mine] == ["ครูไม่พอ"]
    assert _view(engine, workshop, 0) is view  # nothing changed: the same object, shared

    other = factories.add_issue(engine, workshop, group=1, statement="งบประมาณมาช้า")
    assert _view(engine, workshop, 0).others == ()  # silent generation until the reveal
    phases.set_reveal(engine, actor="facilitator", workshop_id=workshop.id, revealed=True)
    assert [i.id for i in _view(engine, workshop, 0).others] == [other.id]

    themes.hide_issues(
        engine, actor="facilitator", workshop_id=workshop.id, issue_ids=[other.id], reason="x"
    )
    assert _view(engine, workshop, 0).others == ()
    assert [i.hidden_reason for i in _view(engine, workshop, 1).mine] == ["x"]  # its group sees why

    who = factories.group_identity(engine, workshop, 0)
    second = factories.add_issue(engine, workshop, group=0, statement="อาคารทรุดโทรม")
    issues.edit_issue(
        engine,
        identity=who,
        issue_id=first.id,
        data=issues.IssueInput(domain_id=first.domain_id, statement="ครูไม่พอจริง ๆ"),
    )
    assert [i.statement for i in _view(engine, workshop, 0).mine] == [
        "อาคารทรุดโทรม",
        "ครูไม่พอจริง ๆ",
    ]  # newest first
    issues.delete_issue(engine, identity=who, issue_id=second.id)
    assert [i.id for i in _view(engine, workshop, 0).mine] == [first.id]


def test_group_view_hints_name_other_groups_close_statements(engine) -> None:
    workshop = factories.make_workshop(engine, groups=3)
    ours = factories.add_issue(engine, workshop, group=0, statement="ครูไม่เพียงพอต่อจำนวนนักเรียน")
    close = factories.add_issue(engine, workshop, group=1, statement="ครูไม่เพียงพอต่อจำนวนนักเรียนค่ะ")
    factories.add_issue(engine, workshop, group=2, statement="Wi-Fi in the school drops")
    phases.set_reveal(engine, actor="facilitator", workshop_id=workshop.id, revealed=True)
    hints = _view(engine, workshop, 0).hints
    assert [s.issue.id for s in hints[ours.id]] == [close.id]


def test_board_table_and_undo_label_follow_the_board(engine) -> None:
    workshop = factories.make_workshop(engine, groups=2)
    a = factories.add_issue(engine, workshop, group=0, statement="ก")
    b = factories.add_issue(engine, workshop, group=1, statement="ข", domain=1)
    phases.set_phase(engine, actor="organizer", workshop_id=workshop.id, phase=Phase.GROUP)
    domains = tuple((d.id, d.name) for d in workshops.list_domains(engine, workshop.id))

    def table():
        version = views.version(engine, workshop.id)
        return (
            views.board_table(engine, workshop.id, version, domains),
            views.next_undo(engine, workshop.id, version),
        )

    rows, nxt = table()
    assert list(rows["no"]) == [a.id, b.id] and not rows["_grouped"].any()
    assert list(rows["domain"]) == [domains[0][1], domains[1][1]]
    assert nxt is not None and nxt.action == "phase.set"
    themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="หัวข้อ", issue_ids=[b.id]
    )
    rows, nxt = table()
    assert list(rows["_grouped"]) == [False, True] and list(rows["theme"]) == ["", "หัวข้อ"]
    assert nxt is not None and nxt.action == "theme.create"


def test_staff_identity_has_no_group_view_rows_of_deleted_issues(engine) -> None:
    workshop = factories.make_workshop(engine, groups=1)
    kept = factories.add_issue(engine, workshop, statement="อยู่")
    gone = factories.add_issue(engine, workshop, statement="ลบ")
    issues.delete_issue(engine, identity=Identity(Role.FACILITATOR), issue_id=gone.id)
    rows = views.issue_rows(engine, workshop.id, views.version(engine, workshop.id))
    assert [r.id for r in rows] == [kept.id]


def test_ranked_follows_votes(engine) -> None:
    workshop = factories.make_workshop(engine, groups=2)
    a = factories.add_issue(engine, workshop, group=0, statement="ก")
    b = factories.add_issue(engine, workshop, group=1, statement="ข")
    phases.set_phase(engine, actor="organizer", workshop_id=workshop.id, phase=Phase.GROUP)
    first, second = (
        themes.create_theme(engine, actor="f", workshop_id=workshop.id, title=t, issue_ids=[i.id])
        for t, i in (("ก", a), ("ข", b))
    )
    phases.set_phase(engine, actor="organizer", workshop_id=workshop.id, phase=Phase.VOTE)

    def order() -> list[tuple[str, int]]:
        found = views.ranked(engine, workshop.id, views.version(engine, workshop.id))
        return [(r.theme.title, r.votes) for r in found]

    assert order() == [("ก", 0), ("ข", 0)]
    votes.cast_votes(
        engine, identity=factories.group_identity(engine, workshop, 0), theme_id=second.id, count=2
    )
    assert order() == [("ข", 2), ("ก", 0)]
    assert first.id != second.id


def test_workshop_row_is_shared_per_version_and_fresh_after_each_command(engine) -> None:
    workshop = factories.make_workshop(engine, groups=2)
    seen = views.workshop(engine, workshop.id, views.version(engine, workshop.id))
    assert views.workshop(engine, workshop.id, views.version(engine, workshop.id)) is seen
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.VOTE)
    now = views.workshop(engine, workshop.id, views.version(engine, workshop.id))
    assert now.phase == Phase.VOTE and seen.phase != Phase.VOTE
    phases.set_reveal(engine, actor="facilitator", workshop_id=workshop.id, revealed=True)
    assert views.workshop(engine, workshop.id, views.version(engine, workshop.id)).revealed
