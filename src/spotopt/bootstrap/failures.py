"""Classify infrastructure exceptions for the entrypoints (which never import adapters)."""

from __future__ import annotations

from spotopt.adapters.persistence.failures import is_database_unavailable


def unavailable_dependency(exc: BaseException) -> str | None:
    """The dependency name when ``exc`` means a dependency is down (→ 503), else None."""
    if is_database_unavailable(exc):
        return "database"
    return None
