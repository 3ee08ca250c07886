"""Small synthetic markets with hand-checkable answers."""

from __future__ import annotations

from decimal import Decimal

from spotopt.entrypoints.replay.market import Market, Zone

SPOT = Decimal("1.00")
ONDEMAND = Decimal("4.00")


def market(gap: int = 60, **zones: str) -> Market:
    """``market(a="1110011111")``: one zone per keyword (``us-east-1a`` ...), ``1`` = obtainable that tick."""
    built = tuple(
        Zone(f"us-east-1{name}", tuple(c == "1" for c in flags), SPOT) for name, flags in sorted(zones.items())
    )
    return Market(built, gap, ONDEMAND)
