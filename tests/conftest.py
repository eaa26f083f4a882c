"""Shared fixtures: a migrated database per test, on SQLite and (when configured) PostgreSQL.

`engine` runs each models test on a fresh SQLite file (copied from one migrated
template, so Alembic runs once per session) and, when TEST_DATABASE_URL is set, again
on the real PostgreSQL server in a schema of its own per xdist worker.

A test marked `sqlite_only(reason)` gets SQLite only: for work that proves nothing about
the database (file formats, input checks that refuse before any transaction) and is
costly enough that a second run on PostgreSQL would only add minutes.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from streamlit.components.v2 import manifest_scanner

from models import db

# AppTest scans every installed distribution's metadata for Streamlit components on each
# run: 0.4 s of a 0.6 s page run here, most of the AppTest modules' time. What is installed
# does not change during the session: the real scan runs once, its answer is reused.
manifest_scanner.scan_component_manifests = functools.cache(
    manifest_scanner.scan_component_manifests
)

# The suite never needs EmbeddingGemma: even where `make model` installed it, `auto` keeps
# the bundled model here (tests/test_model_install.py loads the real one when installed).
os.environ["ROUNDTABLE_MODELS_DIR"] = str(Path(__file__).parent / "data" / "no-models")

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Tests that take `engine` run once per configured backend (no skipped placeholders).
    if "engine" in metafunc.fixturenames:
        backends = BACKENDS
        marker = metafunc.definition.get_closest_marker("sqlite_only")
        if marker is not None:
            if not (marker.args or marker.kwargs.get("reason")):
                raise pytest.UsageError(f"{metafunc.definition.nodeid}: sqlite_only needs a reason")
            backends = ["sqlite"]
        metafunc.parametrize("backend", backends, scope="session")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine(worker_id: str) -> Iterator[Engine]:
    assert PG_URL, "TEST_DATABASE_URL is not set"
    schema = f"rt_test_{worker_id}_{os.getpid()}"  # concurrent runs never share a schema
    admin = db.make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    engine = db.create_engine(
        PG_URL, connect_args={"options": f"-csearch_path={schema}"}, pool_pre_ping=True
    )
    db.migrate(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def engine(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        path = tmp_path / "roundtable.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        engine = db.make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("pg_engine")
    tables = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
    # TRUNCATE (~25 ms) rather than DELETE (~3 ms): emptied by DELETE, a table hands its
    # freed space to later inserts, and rows read without ORDER BY come back out of order.
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield engine


@pytest.fixture
def staff_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Known staff credentials, as an organizer would configure them."""
    values = {"ORGANIZER_PASSWORD": "organizer-secret", "FACILITATOR_PIN": "246810"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, staff_env: dict[str, str]):
    """The app's database as on first run (demo workshop included), for page tests.

    Returns (engine, workshop); DATABASE_URL points at it so pages under AppTest use it.
    """
    from models import workshops
    from models.bootstrap import bootstrap

    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = db.get_engine(url)
    bootstrap(engine)
    return engine, workshops.list_workshops(engine)[0]
