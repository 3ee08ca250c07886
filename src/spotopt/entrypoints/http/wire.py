"""Wire formatting helpers shared by controllers (api.md §1.6, §1.7)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal


def dt(value: datetime | None) -> str | None:
    """UTC, ISO-8601, whole seconds, ``Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def num(value: Decimal | None, places: int = 6) -> float | None:
    """Decimals leave as JSON numbers with at most ``places`` decimals; never as strings."""
    if value is None:
        return None
    return float(round(value, places))
