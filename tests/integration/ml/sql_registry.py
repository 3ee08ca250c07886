"""The database-backed model registry over the test database, migrated from scratch for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.repositories.model_registry import SqlModelRegistry
from spotopt.adapters.policy_store import SqlPolicyStore
from tests.http_app import make_settings, reset_database
from tests.services import test_database_url


@asynccontextmanager
async def sql_registry(tmp_path: Path) -> AsyncIterator[SqlModelRegistry]:
    async with sql_stores(tmp_path) as (registry, _):
        yield registry


@asynccontextmanager
async def sql_stores(tmp_path: Path) -> AsyncIterator[tuple[SqlModelRegistry, SqlPolicyStore]]:
    settings = make_settings(test_database_url(tmp_path), tmp_path)
    reset_database(settings)
    engine = create_engine(settings.database_url, pool_size=4)
    try:
        sessions = create_sessionmaker(engine)
        yield SqlModelRegistry(sessions), SqlPolicyStore(sessions)
    finally:
        await engine.dispose()
