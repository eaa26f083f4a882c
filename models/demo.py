"""The demo workshop, defined as data in data/demo/ and loaded through the usual commands."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from models import issues, workshops
from models.access import Identity
from models.db import ROOT
from models.errors import DomainError
from models.schema import Phase, Role, Workshop

DEMO_FILE = ROOT / "data" / "demo" / "cluster-2561.toml"


def read_definition(path: Path = DEMO_FILE) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def load_demo(engine: Engine, *, path: Path = DEMO_FILE, actor: str = "demo") -> Workshop:
    """Create the workshop `path` defines, with its groups, domains and sample issues."""
    spec = read_definition(path)
    workshop = workshops.create_workshop(
        engine,
        actor=actor,
        slug=spec["slug"],
        data=workshops.WorkshopInput(
            title=spec["title"],
            venue=spec.get("venue", ""),
            starts_on=spec["starts_on"],
            ends_on=spec["ends_on"],
            vote_budget=spec.get("vote_budget", 5),
            max_votes_per_theme=spec.get("max_votes_per_theme", 3),
        ),
        groups=spec["groups"],
        domains=[(d["name"], d.get("name_en", "")) for d in spec["domains"]],
        phase=Phase(spec.get("phase", "collect")),
    )
    assert workshop.id is not None
    group_ids = {g.name: g.id for g in workshops.list_groups(engine, workshop.id)}
    domain_ids: dict[str, int] = {
        d.name: d.id for d in workshops.list_domains(engine, workshop.id) if d.id is not None
    }
    for entry in spec.get("issues", []):
        issues.add_issue(
            engine,
            identity=Identity(Role.GROUP, workshop.id, group_ids[entry["group"]]),
            data=issues.IssueInput(
                domain_id=domain_ids[entry["domain"]],
                statement=entry["statement"],
                cause=entry.get("cause", ""),
                impact=entry.get("impact", ""),
                affected=entry.get("affected", []),
                fix=entry.get("fix", ""),
            ),
        )
    return workshop


def ensure_demo(engine: Engine) -> Workshop | None:
    """On a database with no workshop at all, create the demo; returns it if created."""
    if workshops.list_workshops(engine):
        return None
    try:
        return load_demo(engine)
    except DomainError as error:
        if error.key != "error.workshop.slug_taken":
            raise
        return None  # another process (a second replica) created it a moment ago
