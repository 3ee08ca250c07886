"""Alembic environment: synchronous drivers (PyMySQL, sqlite3), metadata from the table declarations."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import spotopt.adapters.persistence.tables  # noqa: F401 - declares every table on the metadata
from spotopt.adapters.persistence.schema import metadata

config = context.config


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
