"""§4.1 price source types with their priority and confidence."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class SourceType(StrEnum):
    """§4.1 source types with their priority and confidence."""

    PRIMARY = "primary"
    REPLICA_AUTOMATIC = "replica-automatic"
    REPLICA_MANUAL = "replica-manual"
    SECONDARY = "secondary"
    INTERPOLATED = "interpolated"

    @property
    def priority(self) -> int:
        return _SOURCE_PRIORITY[self]

    @property
    def confidence(self) -> Decimal:
        return _SOURCE_CONFIDENCE[self]


_SOURCE_PRIORITY = {
    SourceType.PRIMARY: 5,
    SourceType.REPLICA_AUTOMATIC: 4,
    SourceType.REPLICA_MANUAL: 3,
    SourceType.SECONDARY: 2,
    SourceType.INTERPOLATED: 1,
}
_SOURCE_CONFIDENCE = {
    SourceType.PRIMARY: Decimal("1.00"),
    SourceType.REPLICA_AUTOMATIC: Decimal("0.95"),
    SourceType.REPLICA_MANUAL: Decimal("0.95"),
    SourceType.SECONDARY: Decimal("0.90"),
    SourceType.INTERPOLATED: Decimal("0.70"),
}
