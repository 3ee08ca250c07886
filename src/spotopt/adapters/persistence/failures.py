"""Which database errors mean "unavailable" (503) rather than a bug (500)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, TimeoutError


def is_database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, ConnectionError | OSError) and not isinstance(exc, FileNotFoundError)
