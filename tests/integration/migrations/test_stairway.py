"""Stairway (house style §13): every revision upgrades, downgrades and upgrades again, and head matches the models.

SQLite on a scratch file; MariaDB in a database of its own (``<test database>_stairway``), created and dropped
here, so the other tests' schema is never touched. Under CI=true a missing MariaDB fails (tests/services.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from spotopt.adapters.persistence import migrate
from spotopt.adapters.persistence.engine import sync_url
from spotopt.adapters.persistence.models.metadata import metadata
from tests import services


def revisions(url: str) -> list[tuple[str, str]]:
    """``(revision, the one below it or "base")`` from the first revision up."""
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    steps = [(r.revision, str(r.down_revision) if r.down_revision else "base") for r in script.walk_revisions()]
    return list(reversed(steps))


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def climb(url: str, engine: Engine) -> None:
    steps = revisions(url)
    assert steps, "no migration found"
    for revision, below in steps:
        migrate.upgrade(url, revision)
        migrate.downgrade(url, below)
        migrate.upgrade(url, revision)
    migrate.downgrade(url, "base")
    assert tables(engine) == set()
    migrate.upgrade(url, "head")
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == [], "the migrations do not create the models' schema: regenerate the initial migration"


def test_stairway_on_sqlite(tmp_path: Path) -> None:
    url = services.sqlite_url(tmp_path)
    engine = create_engine(sync_url(url))
    try:
        climb(url, engine)
        assert tables(engine) == set(metadata.tables)
    finally:
        engine.dispose()


@pytest.fixture
def mariadb_url(tmp_path: Path) -> Iterator[str]:
    """A database of the stairway's own beside the test database, dropped afterwards."""
    url = services.test_database_url(tmp_path)
    if url.startswith("sqlite"):
        pytest.skip("the MariaDB stairway needs SPOTOPT_TEST_DATABASE_URL (CI sets it)")
    base = make_url(url)
    own = base.set(database=f"{base.database}_stairway")
    server = create_engine(sync_url(base.set(database=None).render_as_string(hide_password=False)))
    name = own.database
    try:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        yield own.render_as_string(hide_password=False)
    finally:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


def test_stairway_on_mariadb(mariadb_url: str) -> None:
    engine = create_engine(sync_url(mariadb_url))
    try:
        climb(mariadb_url, engine)
        assert tables(engine) == set(metadata.tables)
        with engine.connect() as conn:
            stored = {
                (row.TABLE_NAME, row.CONSTRAINT_NAME): (row.REFERENCED_TABLE_NAME, row.DELETE_RULE)
                for row in conn.execute(
                    text(
                        "SELECT TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, DELETE_RULE"
                        " FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()"
                    )
                )
            }
    finally:
        engine.dispose()
    declared = {
        (table.name, fk.name): (fk.referred_table.name, fk.ondelete or "RESTRICT")
        for table in metadata.tables.values()
        for fk in table.foreign_key_constraints
    }
    assert len(declared) >= 25
    assert stored == declared
