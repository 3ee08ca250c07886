"""Row locks that wait a bounded time (EP-4, pitfall 11)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession


def bounded_lock(stmt: Select[Any], session: AsyncSession, wait_seconds: int) -> Select[Any]:
    """A row lock that waits at most ``wait_seconds`` (MariaDB ``WAIT n``, MySQL ``NOWAIT``).

    SQLite serialises writers at ``BEGIN IMMEDIATE`` (CC-9), so a plain ``FOR UPDATE`` (ignored there) is enough.
    """
    dialect = session.get_bind().dialect
    if dialect.name != "mysql":
        return stmt.with_for_update()
    if getattr(dialect, "is_mariadb", False):
        return stmt.with_for_update().suffix_with(f"WAIT {max(0, int(wait_seconds))}")
    return stmt.with_for_update(nowait=True)
