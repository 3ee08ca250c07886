"""Build the real app over a real database for HTTP tests (SQLite in the unit suite, MariaDB in integration)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from dishka import Provider
from litestar.testing import AsyncTestClient
from sqlalchemy import create_engine, text

from spotopt.bootstrap.database import upgrade_database
from spotopt.bootstrap.settings import Settings
from spotopt.entrypoints.http.app import create_app

ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnopqrstuvwxyz"


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": tmp_path,
        "admin_token": ADMIN_TOKEN,
        "enable_background_jobs": False,
        "auto_migrate": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def reset_database(settings: Settings) -> None:
    """Drop every table of a shared test database, then migrate from scratch."""
    if not settings.is_embedded_database:
        url = settings.database_url.replace("mysql+asyncmy", "mysql+pymysql")
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            tables = [row[0] for row in conn.execute(text("SHOW TABLES"))]
            for table in tables:
                conn.execute(text(f"DROP TABLE IF EXISTS `{table}`"))
        engine.dispose()
    upgrade_database(settings)


@asynccontextmanager
async def app_client(settings: Settings, *overrides: Provider) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    app = create_app(settings, *overrides)
    async with AsyncTestClient(app=app) as client:
        yield client
