"""AppTest: what keeps the group page and the board cheap with many issues still works.

A group's issues come a page at a time with a domain filter; other groups' issues are one
table, built only while its expander is open; a theme card draws its content only open.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from models import issues, phases, themes, workshops
from models.access import Identity
from models.schema import Phase, Role
from tests.factories import run_page


def _fill(engine, workshop, group, count: int, domain_index: int = 0) -> list[str]:
    domain = workshops.list_domains(engine, workshop.id)[domain_index]
    who = Identity(Role.GROUP, workshop.id, group.id)
    statements = [f"ประเด็นที่ {n} ของ {group.name}" for n in range(count)]
    for statement in statements:
        issues.add_issue(
            engine, identity=who, data=issues.IssueInput(domain_id=domain.id, statement=statement)
        )
    return statements


def _shown(at: AppTest, statements: list[str]) -> list[str]:
    """Which of `statements` the page shows, in the order it shows them."""
    wanted = set(statements)
    return [t.value for t in at.text if t.value in wanted]


def test_group_issues_come_a_page_at_a_time_and_by_domain(demo_db) -> None:
    engine, workshop = demo_db
    group = workshops.list_groups(engine, workshop.id)[3]  # region 4: no demo issue
    budget = _fill(engine, workshop, group, 3, domain_index=1)
    academic = _fill(engine, workshop, group, 12)  # newest: shown first
    at = run_page("group_issues", Identity(Role.GROUP, workshop.id, group.id))
    assert not at.exception
    assert _shown(at, academic) == academic[::-1][:10]
    assert at.pills(key="issue_page").options == ["1", "2"]
    at.pills(key="issue_page").set_value(2).run()
    assert _shown(at, academic + budget) == academic[1::-1] + budget[::-1]
    assert at.button(key=f"edit_{issues.group_issues(engine, group.id)[-1].id}")  # still editable
    at.radio(key="issue_domain").set_value(workshops.list_domains(engine, workshop.id)[1].id)
    at.run()
    assert _shown(at, academic + budget) == budget[::-1]
    assert not [p for p in at.pills if p.key == "issue_page"]  # one page only


def test_other_groups_issues_are_one_table_built_only_when_open(demo_db) -> None:
    engine, workshop = demo_db
    first, second = workshops.list_groups(engine, workshop.id)[3:5]
    theirs = _fill(engine, workshop, second, 2)
    phases.set_reveal(engine, actor="facilitator", workshop_id=workshop.id, revealed=True)
    who = Identity(Role.GROUP, workshop.id, first.id)
    closed = run_page("group_issues", who)
    assert any(e.label.startswith("ประเด็นของกลุ่มอื่น") for e in closed.expander)
    assert not closed.dataframe  # nothing built or sent while the expander is closed
    opened = run_page("group_issues", who, others=True)
    table = opened.dataframe[0].value
    assert set(theirs) <= set(table["ประเด็นปัญหา"])
    assert second.name in set(table["กลุ่ม"])
    assert not [s for s in table["ประเด็นปัญหา"] if s.startswith("ประเด็นที่ ") and first.name in s]


def test_theme_cards_draw_their_content_only_when_open(demo_db) -> None:
    engine, workshop = demo_db
    phases.set_phase(engine, actor="facilitator", workshop_id=workshop.id, phase=Phase.GROUP)
    ids = [i.id for i in themes.board(engine, workshop.id).ungrouped]
    theme = themes.create_theme(
        engine, actor="facilitator", workshop_id=workshop.id, title="**ก**", issue_ids=ids[:3]
    )
    at = run_page("board", Identity(Role.FACILITATOR))
    assert not at.exception
    assert any(e.label.startswith("\\*\\*ก\\*\\*") for e in at.expander)
    assert not [t for t in at.text_input if t.key == f"theme_title_{theme.id}"]
    at = run_page("board", Identity(Role.FACILITATOR), **{f"theme_card_{theme.id}": True})
    assert at.text_input(key=f"theme_title_{theme.id}").value == "**ก**"
    board = themes.board(engine, workshop.id)
    listing = [t.value for t in at.text if t.value.startswith("#")]
    assert listing == [
        "\n".join(f"#{i.id} [{d}] {i.statement}" for i, d in _domains(engine, board, theme.id))
    ]


def _domains(engine, board, theme_id: int):
    names = {d.id: d.name for d in workshops.list_domains(engine, board.workshop.id)}
    (view,) = [v for v in board.themes if v.theme.id == theme_id]
    return [(i, names[i.domain_id]) for i in view.issues]
