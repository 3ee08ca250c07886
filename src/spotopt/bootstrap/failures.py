"""Classify infrastructure exceptions for the entrypoints (which never import adapters)."""

from __future__ import annotations

from spotopt.adapters.persistence.failures import is_database_unavailable
from spotopt.adapters.persistence.failures import is_lock_contention as _is_lock_contention


def unavailable_dependency(exc: BaseException) -> str | None:
    """The dependency name when ``exc`` means a dependency is down (→ 503), else None."""
    if is_database_unavailable(exc):
        return "database"
    return None


def is_lock_contention(exc: BaseException) -> bool:
    """A deadlock or lock-wait timeout the entrypoint may retry in a fresh transaction (CC-5)."""
    return _is_lock_contention(exc)
