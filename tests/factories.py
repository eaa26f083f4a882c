"""Test data in one place: workshops, groups and issues made through the real commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from models import demo, issues, workshops
from models.access import Identity
from models.schema import Issue, Phase, Role, Workshop

PAGES = Path(__file__).resolve().parent.parent / "pages"

DOMAINS = [("วิชาการ", "Academic"), ("งบประมาณ", "Budget")]


def make_workshop(
    engine: Engine,
    *,
    groups: int = 3,
    phase: Phase = Phase.COLLECT,
    slug: str = "test-ws",
) -> Workshop:
    return workshops.create_workshop(
        engine,
        actor="test",
        slug=slug,
        data=workshops.WorkshopInput(
            title="การประชุมทดสอบ", starts_on=dt.date(2018, 3, 14), ends_on=dt.date(2018, 3, 16)
        ),
        groups=[f"กลุ่ม {n}" for n in range(1, groups + 1)],
        domains=DOMAINS,
        phase=phase,
    )


def group_identity(engine: Engine, workshop: Workshop, index: int = 0) -> Identity:
    group = workshops.list_groups(engine, workshop.id)[index]  # type: ignore[arg-type]
    return Identity(Role.GROUP, workshop.id, group.id)


def add_issue(
    engine: Engine, workshop: Workshop, *, group: int = 0, statement: str = "ครูไม่พอ", **fields
) -> Issue:
    domain = workshops.list_domains(engine, workshop.id)[fields.pop("domain", 0)]  # type: ignore[arg-type]
    return issues.add_issue(
        engine,
        identity=group_identity(engine, workshop, group),
        data=issues.IssueInput(domain_id=domain.id, statement=statement, **fields),  # type: ignore[arg-type]
    )


def demo_workshop(engine: Engine) -> Workshop:
    return demo.load_demo(engine)


def run_page(name: str, identity: Identity, **state: object) -> AppTest:
    """Run one page file as `identity` (and any other session state), as its first rerun."""
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=30)
    at.session_state["identity"] = identity
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()
