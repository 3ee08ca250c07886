"""Engine construction for the embedded SQLite store and MySQL/MariaDB."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _serialise_sqlite_writes(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_timeout=5,
    )


def _serialise_sqlite_writes(engine: AsyncEngine) -> None:
    """CC-9: on SQLite every transaction takes the write lock up front (``BEGIN IMMEDIATE``).

    A deferred transaction that reads and then writes can fail with ``database is locked`` when another
    connection wrote in between; starting immediate makes writers queue on the busy timeout instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def sync_url(url: str) -> str:
    """The synchronous driver URL for Alembic and maintenance commands (PyMySQL / sqlite3)."""
    return url.replace("mysql+asyncmy", "mysql+pymysql").replace("sqlite+aiosqlite", "sqlite")
