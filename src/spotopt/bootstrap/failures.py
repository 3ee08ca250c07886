"""Classify infrastructure exceptions for the entrypoints (which never import adapters)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from spotopt.adapters.persistence.failures import is_database_unavailable
from spotopt.adapters.persistence.failures import is_lock_contention as _is_lock_contention
from spotopt.application.errors import LockContentionError


def unavailable_dependency(exc: BaseException) -> str | None:
    """The dependency name when ``exc`` means a dependency is down (→ 503), else None."""
    if is_database_unavailable(exc):
        return "database"
    return None


def is_lock_contention(exc: BaseException) -> bool:
    """A deadlock or lock-wait timeout, typed by the unit of work or raw from the driver (CC-5)."""
    return isinstance(exc, LockContentionError) or _is_lock_contention(exc)


def is_transient(exc: BaseException) -> bool:
    """What the retry rule re-runs: lock contention (CC-5), or a statement that found its connection dead.

    SQLAlchemy invalidates a dead connection (there is no ping on checkout), so the next attempt gets a fresh one.
    A failed COMMIT is not transient: the unit of work reports it as ``UnavailableError`` (it may have committed).
    """
    return is_lock_contention(exc) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)
