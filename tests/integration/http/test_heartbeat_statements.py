"""What one agent v4 heartbeat (A2) costs on the real database (MariaDB under CI, SQLite locally): one request
scope, so one pool checkout; the use case commits, so the connection goes back to the pool without a ROLLBACK;
and a pinned number of SQL statements. SQLAlchemy event listeners on the app's own engine count them.

Also here, because they make that count possible: a read-only request takes no write lock; a transaction's
snapshot starts at its first lock, so the guard's read does not hide what committed meanwhile; and the pool still
rolls back a connection that comes back with its transaction open.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import column, event, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState

from spotopt.adapters.persistence.engine import create_engine, in_transaction
from spotopt.bootstrap.settings import Settings
from tests import services
from tests.agent_v4.agent import OLD, agent_headers, heartbeat_body, register_body
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# The token is answered from the in-process cache (the warm-up heartbeat put it there); the heartbeat only refreshes
# liveness, so the fast path writes it without reading: MariaDB one multi-table UPDATE, SQLite the instance's UPDATE
# (every condition in it) and the agent's. Before issue 10: 5 statements (the client lookup, the agent and instance
# reads, two UPDATEs) and, before one request scope, 2 checkouts, 2 pings and a forced ROLLBACK around them.
HEARTBEAT_STATEMENTS = {"sqlite": 2, "mysql": 1}
# Besides the final commit: SQLite's write lock taken by the first (and only kind of) statement.
HEARTBEAT_TRANSACTION_CONTROL: dict[str, list[str]] = {"sqlite": ["BEGIN IMMEDIATE"], "mysql": []}
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
LOCK_WAIT_S = 10  # far below SQLite's 30 s busy timeout: a read that waited for the lock would fail here


@dataclass
class Traffic:
    statements: list[str] = field(default_factory=list)
    transaction_control: list[str] = field(default_factory=list)
    checkouts: int = 0
    commits: int = 0
    rollbacks: int = 0
    returned_open: int = 0  # connections that came back to the pool with a transaction the pool had to roll back


@contextmanager
def traffic(engine: AsyncEngine) -> Iterator[Traffic]:
    seen = Traffic()
    sync = engine.sync_engine

    def on_statement(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        control = statement.lstrip().upper().startswith(TRANSACTION_CONTROL)
        (seen.transaction_control if control else seen.statements).append(" ".join(statement.split()))

    def on_checkout(*_: Any) -> None:
        seen.checkouts += 1

    def on_commit(_conn: Connection) -> None:
        seen.commits += 1

    def on_rollback(_conn: Connection) -> None:
        seen.rollbacks += 1

    def on_reset(_dbapi: Any, record: ConnectionPoolEntry, state: PoolResetState) -> None:
        seen.returned_open += int(not state.terminate_only and in_transaction(record.driver_connection))

    listeners: list[tuple[Any, str, Callable[..., None]]] = [
        (sync, "before_cursor_execute", on_statement),
        (sync, "commit", on_commit),
        (sync, "rollback", on_rollback),
        (sync.pool, "checkout", on_checkout),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    event.listen(sync.pool, "reset", on_reset, insert=True)  # before the engine's own reset hook rolls back
    try:
        yield seen
    finally:
        for target, name, fn in [*listeners, (sync.pool, "reset", on_reset)]:
            event.remove(target, name, fn)


async def _registered_agent(client: AsyncTestClient[Litestar]) -> tuple[dict[str, str], str]:
    created = await client.post("/api/admin/clients/create", json={"name": "statements"}, headers=ADMIN)
    assert created.status_code == 201, created.text
    token = created.json()["client_token"]
    headers = agent_headers(token)
    registered = await client.post("/api/agents/register", json=register_body(token), headers=headers)
    assert registered.status_code == 201, registered.text
    agent_id = registered.json()["agent_id"]
    warm = await client.post(f"/api/agents/{agent_id}/heartbeat", json=heartbeat_body(OLD), headers=headers)
    assert warm.status_code == 200, warm.text
    return headers, agent_id


def _settings(tmp_path: Path) -> Settings:
    settings = make_settings(services.test_database_url(tmp_path), tmp_path)
    reset_database(settings)
    return settings


async def test_one_heartbeat_on_the_fast_path_is_one_checkout_no_rollback_and_a_pinned_statement_count(
    tmp_path: Path,
) -> None:
    async with app_client(_settings(tmp_path)) as client:
        headers, agent_id = await _registered_agent(client)
        engine = await client.app.state.dishka_container.get(AsyncEngine)

        with traffic(engine) as seen:
            answer = await client.post(f"/api/agents/{agent_id}/heartbeat", json=heartbeat_body(OLD), headers=headers)

        assert answer.status_code == 200, answer.text
        assert seen.checkouts == 1
        assert (seen.commits, seen.rollbacks, seen.returned_open) == (1, 0, 0)
        assert seen.transaction_control == HEARTBEAT_TRANSACTION_CONTROL[engine.dialect.name]
        assert len(seen.statements) == HEARTBEAT_STATEMENTS[engine.dialect.name], "\n".join(seen.statements)
        assert all(sql.startswith("UPDATE") for sql in seen.statements)  # no read: token cached, state in WHERE


@contextmanager
def write_lock_held_elsewhere(settings: Settings, agent_id: str) -> Iterator[None]:
    """Another connection holds a write lock: SQLite's database write lock, or MariaDB's lock on the agent row."""
    url = make_url(settings.database_url)
    if settings.is_embedded_database:
        other: Any = sqlite3.connect(str(url.database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username, database=url.database)
        other.cursor().execute("SELECT agent_id FROM agents WHERE agent_id = %s FOR UPDATE", (agent_id,))
    try:
        yield
    finally:
        other.rollback()
        other.close()


async def test_a_read_only_request_takes_no_write_lock(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with app_client(settings) as client:
        headers, agent_id = await _registered_agent(client)
        engine = await client.app.state.dishka_container.get(AsyncEngine)

        with write_lock_held_elsewhere(settings, agent_id), traffic(engine) as seen:
            config = await asyncio.wait_for(client.get(f"/api/agents/{agent_id}/config", headers=headers), LOCK_WAIT_S)

        assert config.status_code == 200, config.text
        assert seen.checkouts == 1
        assert "BEGIN IMMEDIATE" not in seen.transaction_control
        assert all(sql.startswith("SELECT") and "FOR UPDATE" not in sql for sql in seen.statements), seen.statements


async def test_a_connection_returned_with_an_open_transaction_is_rolled_back_by_the_pool(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with app_client(settings) as client:
        await _registered_agent(client)
    engine = create_engine(settings.database_url, pool_size=1)  # this loop's own engine, built as the app's is
    try:
        with traffic(engine) as seen:
            async with engine.connect() as conn:
                raw = await conn.get_raw_connection()
                await conn.run_sync(lambda _: _write_behind_sqlalchemys_back(raw.dbapi_connection))
                assert in_transaction(raw.driver_connection)
        async with engine.connect() as conn:
            names = (await conn.execute(text("SELECT name FROM clients"))).scalars().all()
    finally:
        await engine.dispose()

    assert seen.returned_open == 1
    assert names == ["statements"]  # the abandoned write was rolled back, not left to the next user


def _write_behind_sqlalchemys_back(dbapi_connection: Any) -> None:
    """An UPDATE SQLAlchemy's ``Connection`` knows nothing of, so closing it does not roll it back itself."""
    cursor = dbapi_connection.cursor()
    cursor.execute("BEGIN")
    cursor.execute("UPDATE clients SET name = 'left open'")
    cursor.close()


async def test_a_transaction_sees_what_committed_before_its_first_lock(tmp_path: Path) -> None:
    """The guard's read opens the request's transaction; the use case's lock must not inherit its snapshot."""
    settings = _settings(tmp_path)
    async with app_client(settings) as client:
        await _registered_agent(client)
    clients = table("clients", column("name"))
    engine = create_engine(settings.database_url, pool_size=2)
    try:
        async with engine.connect() as request, engine.connect() as other:
            assert (await request.execute(select(clients.c.name))).scalar_one() == "statements"  # the guard's read
            await other.execute(clients.update().values(name="renamed"))
            await other.commit()

            locked = (await request.execute(select(clients.c.name).with_for_update())).scalar_one()
            after = (await request.execute(select(clients.c.name))).scalar_one()
            await request.commit()
    finally:
        await engine.dispose()

    assert (locked, after) == ("renamed", "renamed")
