"""Column types of the models, on advanced-alchemy's types, the same on SQLite and MySQL/MariaDB."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON as _JSON
from sqlalchemy import Dialect, Numeric, String
from sqlalchemy import Text as _Text
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

# Not advanced-alchemy's ``JsonB``: its Oracle variant cannot be attached to a table on SQLAlchemy 2.1 (the variant's
# constraint hook calls ``util.portable_instancemethod``, which 2.1 removed), and on SQLite and MySQL/MariaDB, the
# databases this service runs on, ``JsonB`` is this very type.
JSON = _JSON()
"""JSON documents."""


class UTCDateTime(DateTimeUTC):
    """advanced-alchemy's aware-UTC ``DateTimeUTC`` with microseconds kept on MySQL/MariaDB (``DATETIME(6)``).

    Aware UTC datetimes in Python, naive UTC in the database; binding a naive datetime is an error.
    """

    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        aware = super().process_bind_param(value, dialect)
        # The drivers would drop the offset silently; a naive UTC value says exactly what is stored.
        return None if aware is None else aware.replace(tzinfo=None)


def Price() -> Numeric[Any]:  # noqa: N802 - reads as a column type
    """$/hour, 6 decimal places (C-3)."""
    return Numeric(18, 6, asdecimal=True)


def Money() -> Numeric[Any]:  # noqa: N802
    """Ledger dollars, 8 decimal places (C-3)."""
    return Numeric(24, 8, asdecimal=True)


def Hours() -> Numeric[Any]:  # noqa: N802
    """Ledger hours, 10 decimal places (C-3)."""
    return Numeric(24, 10, asdecimal=True)


def Ratio() -> Numeric[Any]:  # noqa: N802
    """Confidences, progress and thresholds in [0, 1] or percentages with 4 decimal places."""
    return Numeric(10, 4, asdecimal=True)


def Percent() -> Numeric[Any]:  # noqa: N802
    """Savings percentages, 2 decimal places (PR-14)."""
    return Numeric(18, 2, asdecimal=True)


def Id() -> String:  # noqa: N802
    """Identifiers: server UUIDs, EC2 ids, pool ids (every id column, so references match their keys)."""
    return String(64)


def Name(length: int = 255) -> String:  # noqa: N802
    """Short text: names, enum values (``Name(32)``), free-form labels."""
    return String(length)


def Text() -> _Text:  # noqa: N802
    """Unbounded text: messages and reasons."""
    return _Text()
