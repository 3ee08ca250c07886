"""Time helpers: every time in the domain is aware UTC (C-2)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(value: datetime) -> datetime:
    """Normalise a datetime to aware UTC (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_iso(value: datetime) -> str:
    """ISO-8601 in UTC with whole seconds and ``Z`` (NT-7, JB-6)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
