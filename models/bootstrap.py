"""First-run set-up shared by `roundtable serve` and the app itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

from models import access, demo, fonts

# pg_advisory_lock key for first-run set-up (the migrations hold 724201).
_SETUP_LOCK = 724202


@contextmanager
def _one_process_at_a_time(engine: Engine) -> Iterator[None]:
    """Replicas starting together on PostgreSQL would each see no credentials and no demo
    and insert them twice (READ COMMITTED lets both check-then-insert pass); an advisory
    lock makes the later ones find the first one's rows. SQLite's `BEGIN IMMEDIATE`
    already serialises them."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({_SETUP_LOCK})")
        try:
            yield
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_SETUP_LOCK})")
            conn.commit()


def bootstrap(engine: Engine, *, with_demo: bool = True) -> dict[str, str]:
    """Credentials, web fonts and (on an empty database) the demo workshop.

    Returns credentials generated just now, to be printed once; later calls return {}.
    Safe when several processes start at once on one database.
    """
    with _one_process_at_a_time(engine):
        generated = access.ensure_credentials(engine)
        fonts.install_static()
        if with_demo:
            demo.ensure_demo(engine)
    return generated
