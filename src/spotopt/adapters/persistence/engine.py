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


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, pool_reset_on_return=None)
        _serialise_sqlite_writes(engine)
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
    _reset_only_open_transactions(engine)
    return engine


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


def _serialise_sqlite_writes(engine: AsyncEngine) -> None:
    """CC-9: SQLite serialises writers; the begin mode of a transaction is chosen lazily, by its first statement.

    - A plain read begins a deferred transaction (``BEGIN``): one consistent snapshot, no lock, so a read-only
      request (and the auth guard's read at the start of every request) never waits for, or blocks, a writer.
    - A write, a savepoint or a locking read (``FOR UPDATE``, which SQLite does not render) begins
      ``BEGIN IMMEDIATE``: the write lock is taken up front and concurrent writers queue on the busy timeout.
    - A deferred transaction that meets its first write or locking read has only read; it is ended (``COMMIT``)
      and restarted immediate. Upgrading it in place could fail with ``SQLITE_BUSY_SNAPSHOT`` when another
      connection wrote since its snapshot. Its earlier plain reads thus behave as on MariaDB, where a plain read
      is a snapshot read and only a locking read decides a write (house style §7: lock what decides a write).

    The choice is made per statement from the SQL expression, so no use case or entrypoint has to declare whether
    it writes.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver never begins on its own: the hook below does
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "before_execute")
    def _before_execute(conn: Connection, statement: Any, *_: Any) -> None:
        writes = takes_write_lock(statement)
        if not in_transaction(conn.connection.driver_connection):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
            conn.info[_IMMEDIATE] = writes
        elif writes and not conn.info.get(_IMMEDIATE, True):
            conn.exec_driver_sql("COMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.info[_IMMEDIATE] = True


_IMMEDIATE = "spotopt_begin_immediate"


def takes_write_lock(statement: Any) -> bool:
    """A write, a savepoint (it precedes one) or a locking read."""
    if getattr(statement, "is_dml", False) or isinstance(statement, SavepointClause | ExecutableDDLElement):
        return True
    if getattr(statement, "_for_update_arg", None) is not None:  # Select.with_for_update(); no public accessor
        return True
    if isinstance(statement, TextClause):
        return statement.text.lstrip().upper().startswith(_WRITE_VERBS)
    return False


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def sync_url(url: str) -> str:
    """The synchronous driver URL for Alembic and maintenance commands (PyMySQL / sqlite3)."""
    return url.replace("mysql+asyncmy", "mysql+pymysql").replace("sqlite+aiosqlite", "sqlite")
