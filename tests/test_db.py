"""The database layer: migrations, SQLite tuning, no lost updates under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from models import db
from models.schema import Workshop
from tests.factories import make_workshop


def test_migrations_match_the_models(engine) -> None:
    """A new table or column without its Alembic migration fails here."""
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_migrate_is_idempotent_and_upgrades_old_file(tmp_path) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = db.make_engine(url)
    command.upgrade(db.alembic_config(engine), "0001")  # a file from the first release
    db.migrate(engine)
    db.migrate(engine)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == ScriptDirectory.from_config(db.alembic_config(engine)).get_current_head()
    assert version != "0001"


def test_sqlite_pragmas(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000


def test_foreign_keys_enforced(engine) -> None:
    from sqlalchemy.exc import IntegrityError

    from models.schema import BreakoutGroup

    with pytest.raises(IntegrityError), db.write(engine) as session:
        session.add(BreakoutGroup(workshop_id=999, name="x", join_code="ABCDEFGH"))


def test_write_rolls_back_on_error(engine) -> None:
    workshop = make_workshop(engine)
    with pytest.raises(RuntimeError), db.write(engine) as session:
        row = session.get(Workshop, workshop.id)
        row.title = "changed"
        session.add(row)
        session.flush()
        raise RuntimeError("boom")
    with db.read(engine) as session:
        assert session.get(Workshop, workshop.id).title == "การประชุมทดสอบ"


def test_read_modify_write_loses_no_update(engine) -> None:
    """Each writer reads the budget, adds one and writes it back: none may be lost."""
    workshop = make_workshop(engine)

    def bump(_: int) -> None:
        with db.write(engine) as session:
            row = session.get(Workshop, workshop.id, with_for_update=True)
            row.vote_budget += 1
            session.add(row)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(bump, range(200)))
    with db.read(engine) as session:
        assert session.get(Workshop, workshop.id).vote_budget == 5 + 200
