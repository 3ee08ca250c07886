"""Which database errors mean "unavailable" (503) rather than a bug (500)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, TimeoutError


def is_database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, ConnectionError | OSError) and not isinstance(exc, FileNotFoundError)


# CC-5: MySQL/MariaDB deadlock (1213), lock wait timeout (1205, also MariaDB's answer to NOWAIT/WAIT n), and
# MySQL's NOWAIT refusal (3572). All are safe to retry in a fresh transaction.
LOCK_CONTENTION_CODES = frozenset({1205, 1213, 3572})


def is_lock_contention(exc: BaseException) -> bool:
    """A deadlock or lock-wait timeout that a fresh transaction may get past (CC-5)."""
    if not isinstance(exc, DBAPIError):
        return False
    args: tuple[object, ...] = tuple(getattr(exc.orig, "args", ()))
    return len(args) > 0 and args[0] in LOCK_CONTENTION_CODES
