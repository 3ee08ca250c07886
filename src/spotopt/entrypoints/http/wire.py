"""Wire formatting helpers and field types shared by the HTTP features (api.md §1.4, §1.6, §1.7)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

INSTANCE_ID = r"^i-([0-9a-f]{8}|[0-9a-f]{17})$"
Ec2Id = Annotated[str, msgspec.Meta(pattern=INSTANCE_ID)]
ModeName = Literal["spot", "ondemand", "unknown"]


def text(max_length: int, min_length: int = 0) -> Any:
    """A string field of bounded length."""
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=max_length)]


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
