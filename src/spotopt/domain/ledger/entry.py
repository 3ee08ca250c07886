"""Savings ledger: entries and how they open, close and split (domain §5.1-§5.3, LG-1 to LG-8).

Every operation returns a ``LedgerChange``: the entries it created or modified (persist them all) and the
instance's open entry afterwards. Operations roll UTC midnights on the way (LG-4), so no entry ever spans one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Final, NewType

from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId, new_id
from spotopt.domain.shared.money import MAX_PRICE, round_money, round_price
from spotopt.domain.shared.pools import Mode

LedgerEntryId = NewType("LedgerEntryId", str)
_HOUR = Decimal(3600)
_MICROSECOND = timedelta(microseconds=1)
MONEY_ZERO: Final = round_money(Decimal(0))


class CloseReason(StrEnum):
    SWITCH = "switch"
    PROMOTION = "promotion"
    FAILOVER = "failover"
    ROLE_CHANGE = "role_change"
    TERMINATED = "terminated"
    PRICE_CHANGE = "price_change"
    BASELINE_CHANGE = "baseline_change"
    DAY_BOUNDARY = "day_boundary"
    AGENT_DELETED = "agent_deleted"


class PriceFlag(StrEnum):
    INTERPOLATED = "interpolated"
    CARRIED_FORWARD = "carried_forward"
    STALE_ONDEMAND = "stale_ondemand"


class Unchanged(Enum):
    """Marks an argument the caller left as it was (``None`` already means *unknown*)."""

    KEEP = "keep"


UNCHANGED: Final = Unchanged.KEEP


def _check_price(name: str, value: Decimal) -> Decimal:
    if not value.is_finite() or value <= 0 or value > MAX_PRICE:
        raise InvalidValueError(name, "must be in (0, 1000] $/h")
    return round_price(value)


@dataclass(frozen=True, slots=True)
class LedgerPrice:
    """A ledger price in effect (PR-25) with its provenance; ``price`` None means unknown (LG-7)."""

    price: Decimal | None
    bucket_start: datetime | None = None
    confidence: Decimal | None = None
    flags: frozenset[PriceFlag] = frozenset()

    def __post_init__(self) -> None:
        if self.price is not None:
            object.__setattr__(self, "price", _check_price("price", self.price))


UNKNOWN_PRICE: Final = LedgerPrice(None)


@dataclass(frozen=True, slots=True)
class EntryAmounts:
    """§5.3 figures of one interval; None where LG-7 leaves a value unknown."""

    hours: Decimal
    cost: Decimal | None
    baseline_cost: Decimal | None
    savings: Decimal | None


def duration_seconds(duration: timedelta) -> Decimal:
    """C-3: exact seconds of a duration (microsecond resolution)."""
    return Decimal(duration // _MICROSECOND).scaleb(-6)


def entry_amounts(
    role: InstanceRole, price: Decimal | None, baseline: Decimal | None, duration: timedelta
) -> EntryAmounts:
    """§5.3/LG-7/LG-8: round8 once per amount; a standby or kept-old baseline cost is 0; unknown stays None."""
    seconds = duration_seconds(duration)
    cost = None if price is None else round_money(price * seconds / _HOUR)
    if role is InstanceRole.PRIMARY:
        baseline_cost = None if baseline is None else round_money(baseline * seconds / _HOUR)
    else:
        baseline_cost = MONEY_ZERO
    savings = None if cost is None or baseline_cost is None else baseline_cost - cost
    return EntryAmounts(seconds / _HOUR, cost, baseline_cost, savings)


@dataclass(eq=False, slots=True)
class LedgerEntry:
    """One interval of one instance in one role at one price and baseline (§5.1)."""

    entry_id: LedgerEntryId
    client_id: ClientId
    agent_id: AgentId
    instance_id: InstanceId
    role: InstanceRole
    mode: Mode
    pool_id: str | None
    instance_type: str
    region: str
    started_at: datetime
    ended_at: datetime | None = None
    price: Decimal | None = None
    price_bucket_start: datetime | None = None
    price_confidence: Decimal | None = None
    price_flags: frozenset[PriceFlag] = frozenset()
    baseline: Decimal | None = None
    hours: Decimal | None = None
    cost: Decimal | None = None
    baseline_cost: Decimal | None = None
    savings: Decimal | None = None
    close_reason: CloseReason | None = None
    end_unconfirmed: bool = False

    def __post_init__(self) -> None:
        """IN-8: terminated instances have no entry; §5.1: only a primary entry carries a baseline."""
        if self.role is InstanceRole.TERMINATED:
            raise InvalidValueError("role", "a terminated instance has no ledger entry (IN-8)")
        if self.baseline is not None and self.role is not InstanceRole.PRIMARY:
            raise InvalidValueError("baseline", "only primary entries carry a baseline")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LedgerEntry) and other.entry_id == self.entry_id

    def __hash__(self) -> int:
        return hash(self.entry_id)

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def is_priced(self) -> bool:
        """LG-7: the price is known and, for a primary, the baseline too."""
        return self.price is not None and (self.role is not InstanceRole.PRIMARY or self.baseline is not None)

    @property
    def quote(self) -> LedgerPrice:
        return LedgerPrice(self.price, self.price_bucket_start, self.price_confidence, self.price_flags)

    @property
    def hourly_savings(self) -> Decimal | None:
        """§5.3 hourly rate term: ``baseline - price`` for a primary, ``-price`` otherwise; None when unpriced."""
        if self.price is None or not self.is_priced:
            return None
        return (self.baseline or Decimal(0)) - self.price

    def amounts_until(self, end: datetime) -> EntryAmounts:
        """The entry valued over ``[started_at, end]`` (an open entry valued up to now)."""
        return entry_amounts(self.role, self.price, self.baseline, max(end - self.started_at, timedelta(0)))

    def _close(self, at: datetime, reason: CloseReason, *, unconfirmed: bool = False) -> None:
        amounts = self.amounts_until(at)
        self.ended_at = at
        self.hours, self.cost = amounts.hours, amounts.cost
        self.baseline_cost, self.savings = amounts.baseline_cost, amounts.savings
        self.close_reason = reason
        self.end_unconfirmed = unconfirmed

    def _set_terms(self, role: InstanceRole, quote: LedgerPrice, baseline: Decimal | None) -> bool:
        before = (self.role, self.quote, self.baseline)
        self.role, self.baseline = role, baseline
        self.price, self.price_bucket_start = quote.price, quote.bucket_start
        self.price_confidence, self.price_flags = quote.confidence, quote.flags
        return before != (self.role, self.quote, self.baseline)

    def _successor(self, at: datetime, entry_id: str | None = None) -> LedgerEntry:
        return LedgerEntry(
            LedgerEntryId(entry_id or new_id()), self.client_id, self.agent_id, self.instance_id, self.role,
            self.mode, self.pool_id, self.instance_type, self.region, at, None, self.price,
            self.price_bucket_start, self.price_confidence, self.price_flags, self.baseline,
        )  # fmt: skip
