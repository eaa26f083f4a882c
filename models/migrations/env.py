"""Alembic environment: migrations run on the engine handed over by models.db.migrate."""

from alembic import context
from sqlmodel import SQLModel

import models.schema  # noqa: F401  (registers the tables on SQLModel.metadata)

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Replicas starting together must not migrate twice.
        connection.exec_driver_sql("SELECT pg_advisory_lock(724201)")
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_unlock(724201)")
        connection.commit()
