"""Column types that behave the same on SQLite and MySQL/MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC in the database, microsecond precision (``DATETIME(6)`` on MySQL)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def Price() -> Numeric[Any]:  # noqa: N802 - reads as a column type
    """$/hour, 6 decimal places (C-3)."""
    return Numeric(18, 6, asdecimal=True)


def Money() -> Numeric[Any]:  # noqa: N802
    """Ledger dollars, 8 decimal places (C-3)."""
    return Numeric(24, 8, asdecimal=True)


def Ratio() -> Numeric[Any]:  # noqa: N802
    return Numeric(10, 4, asdecimal=True)


def Text(length: int = 255) -> String:  # noqa: N802
    return String(length)
