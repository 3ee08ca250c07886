"""Money and price quantities (C-3): Decimal with fixed places, rounded half-to-even."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

PRICE_QUANTUM = Decimal("0.000001")
MONEY_QUANTUM = Decimal("0.00000001")
MAX_PRICE = Decimal(1000)


def round_price(value: Decimal) -> Decimal:
    """C-3: prices carry 6 decimal places."""
    return value.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)


def round_money(value: Decimal) -> Decimal:
    """C-3: ledger amounts carry 8 decimal places, rounded half-to-even."""
    return value.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)
