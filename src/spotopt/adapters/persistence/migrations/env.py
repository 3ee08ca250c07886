"""Alembic environment: synchronous drivers (PyMySQL, sqlite3), metadata from the declarative models."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alembic import context
from alembic.operations import ops
from sqlalchemy import create_engine, pool

from spotopt.adapters.persistence.models.metadata import metadata

config = context.config


def _drop_tables_with_their_indexes(_context: Any, _revision: Any, directives: Iterable[Any]) -> None:
    """Autogenerate drops a table's indexes before the table; MySQL refuses to drop an index a foreign key uses
    (1553), and dropping the table drops its indexes anyway, so a downgrade only drops the tables.
    """
    for script in directives:
        downgrade: ops.DowngradeOps = script.downgrade_ops
        dropped = {op.table_name for op in downgrade.ops if isinstance(op, ops.DropTableOp)}
        downgrade.ops = [
            op
            for op in downgrade.ops
            if not (
                isinstance(op, ops.ModifyTableOps)
                and op.table_name in dropped
                and all(isinstance(inner, ops.DropIndexOp) for inner in op.ops)
            )
        ]


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            process_revision_directives=_drop_tables_with_their_indexes,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
