"""Engine construction for the embedded SQLite store and MySQL/MariaDB.

Connections are not pinged on checkout: the pool recycles them after 30 min (before MariaDB's idle timeout), and a
connection found dead on first use is invalidated by SQLAlchemy, the attempt failing with a disconnect error that
the entrypoints' retry rule re-runs on a fresh connection (``bootstrap.failures.is_transient``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState
from sqlalchemy.sql.ddl import ExecutableDDLElement
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.expression import SavepointClause

_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
_LOCKED = "spotopt_transaction_locked"  # connection info: the transaction has written or taken a row lock


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    sqlite = url.startswith("sqlite")
    if sqlite:
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, pool_reset_on_return=None)
        _configure_sqlite(engine)
    else:
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_recycle=1800,
            pool_timeout=5,
            pool_reset_on_return=None,
        )
    _snapshot_from_first_lock(engine, sqlite=sqlite)
    _reset_only_open_transactions(engine)
    return engine


def _snapshot_from_first_lock(engine: AsyncEngine, *, sqlite: bool) -> None:
    """A transaction's snapshot starts at its first write or locking read, whatever it read before.

    Every request reads first (the auth guard looks the client up in the request's one session) and only then runs
    its use case, which locks what decides its writes (house style §7). Under REPEATABLE READ the guard's read would
    fix the snapshot, so reads after the lock could miss what another request committed while this one waited for
    it (twenty concurrent R9 notices would all promote). So a transaction that has only read (plain reads, no lock
    taken, nothing written) is ended (``COMMIT``: nothing to lose) right before its first write, savepoint or
    locking read, and the rest runs in a fresh transaction. Its earlier plain reads behave as separate snapshot
    reads, as they would have in a scope of their own.

    SQLite (CC-9) also chooses the begin mode this way: a plain read begins a deferred transaction (``BEGIN``, no
    lock: a read-only request never waits for or blocks a writer); the first write or locking read (``FOR UPDATE``,
    which SQLite does not render) begins ``BEGIN IMMEDIATE``, so writers queue on the busy timeout instead of
    failing. Upgrading a deferred transaction in place could fail with ``SQLITE_BUSY_SNAPSHOT``.

    The decision is made per statement from the SQL expression: no use case or entrypoint declares whether it writes.
    """

    @event.listens_for(engine.sync_engine, "before_execute")
    def _before_execute(conn: Connection, statement: Any, *_: Any) -> None:
        locks = takes_write_lock(statement)
        if not in_transaction(conn.connection.driver_connection):
            if sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE" if locks else "BEGIN")
            conn.info[_LOCKED] = locks
        elif locks and not conn.info.get(_LOCKED, True):  # unknown history: never end a transaction
            conn.exec_driver_sql("COMMIT")
            if sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.info[_LOCKED] = True


def takes_write_lock(statement: Any) -> bool:
    """A write, a savepoint (it precedes one) or a locking read."""
    if getattr(statement, "is_dml", False) or isinstance(statement, SavepointClause | ExecutableDDLElement):
        return True
    if getattr(statement, "_for_update_arg", None) is not None:  # Select.with_for_update(); no public accessor
        return True
    if isinstance(statement, TextClause):
        return statement.text.lstrip().upper().startswith(_WRITE_VERBS)
    return False


def _reset_only_open_transactions(engine: AsyncEngine) -> None:
    """A connection comes back to the pool rolled back only when its transaction is still open.

    The pool's default reset rolls back every returned connection, so each committed use case would pay a
    ROLLBACK round trip (SQLAlchemy skips it only when ``Connection.close`` itself ended the transaction, never after
    a commit). A session that did not commit rolls back when it closes; this hook catches whatever is left open,
    e.g. after a failed COMMIT, asking the driver (asyncmy: the server's in-transaction flag; SQLite: the
    connection's own flag). A driver that cannot tell is always rolled back.
    """

    @event.listens_for(engine.sync_engine.pool, "reset")
    def _on_reset(dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState) -> None:
        if state.terminate_only or not state.asyncio_safe:
            return
        if in_transaction(record.driver_connection):
            dbapi_connection.rollback()


def in_transaction(driver_connection: Any) -> bool:
    """Whether the driver reports an open transaction (True when it cannot tell)."""
    status = getattr(driver_connection, "get_transaction_status", None)  # asyncmy, PyMySQL
    if callable(status):
        return bool(status())
    flag = getattr(driver_connection, "in_transaction", None)  # aiosqlite, sqlite3
    return True if flag is None else bool(flag)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver never begins on its own: the engine does
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")  # SQLite enforces the schema's foreign keys only when asked
        cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def sync_url(url: str) -> str:
    """The synchronous driver URL for Alembic and maintenance commands (PyMySQL / sqlite3)."""
    return url.replace("mysql+asyncmy", "mysql+pymysql").replace("sqlite+aiosqlite", "sqlite")
