"""Pricing ingestion entities (domain §4.1, §4.5, §4.6)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from spotopt.domain.shared.money import MAX_PRICE

SKEW_PAST = timedelta(hours=1)
SKEW_FUTURE = timedelta(minutes=2)
POOL_AVAILABILITY_WINDOW = timedelta(hours=24)
AGENT_FALLBACK_ONDEMAND = Decimal("0.1")
_SUBMISSION_NAMESPACE = uuid.UUID("6f1c3a52-8f0e-4f8e-9a55-2b1f7c0d9e41")


@dataclass(eq=False, slots=True)
class PricingReport:
    """PR-1: stored as received (history only)."""

    report_id: str
    client_id: ClientId
    agent_id: AgentId
    instance_id: InstanceId
    instance_type: str
    region: str
    az: str
    mode: str
    received_at: datetime
    pool_id: str | None = None
    on_demand_price: Decimal | None = None
    current_spot_price: Decimal | None = None
    cheapest_pool_id: str | None = None
    cheapest_pool_price: Decimal | None = None
    pool_count: int = 0
    pools_rejected: int = 0
    spot_pools: list[dict[str, object]] = field(default_factory=list)
    collected_at: datetime | None = None
    collected_at_raw: str | None = None


@dataclass(eq=False, slots=True)
class PricingSubmission:
    """PR-3: one observed spot price; append-only and unique by ``submission_id`` (MD-1)."""

    submission_id: str
    pool_id: str
    instance_type: str
    region: str
    az: str
    spot_price: Decimal | None
    observed_at: datetime
    received_at: datetime
    source_type: SourceType
    agent_id: AgentId
    instance_id: InstanceId
    client_id: ClientId
    report_id: str
    is_valid: bool
    validation_flags: list[str] = field(default_factory=list)
    ondemand_price: Decimal | None = None
    collected_at: datetime | None = None
    processed_at: datetime | None = None
    outcome: str | None = None


@dataclass(eq=False, slots=True)
class SpotPool:
    """PR-32 catalogue entry (fleet-wide)."""

    pool_id: str
    instance_type: str
    region: str
    az: str
    first_seen_at: datetime
    last_seen_at: datetime

    def is_available(self, now: datetime) -> bool:
        """PR-33."""
        return now - self.last_seen_at <= POOL_AVAILABILITY_WINDOW


@dataclass(eq=False, slots=True)
class OnDemandObservation:
    """PR-27/PR-28: kept as history; ``agent_estimate`` observations never become current."""

    observation_id: str
    instance_type: str
    region: str
    price: Decimal
    source: str
    observed_at: datetime
    is_valid: bool
    flags: list[str] = field(default_factory=list)
    agent_id: AgentId | None = None


@dataclass(eq=False, slots=True)
class OnDemandPrice:
    """PR-27: current on-demand price per (type, region); unknown stays unknown (PR-31)."""

    instance_type: str
    region: str
    price: Decimal
    source: str
    observed_at: datetime
    observation_count: int = 1


def submission_id(agent_id: str, instance_id: str, pool_id: str, collected_at_raw: str) -> str:
    """PR-4: UUID v5 from (agent, reporter instance, pool, ``collected_at`` exactly as sent)."""
    return str(uuid.uuid5(_SUBMISSION_NAMESPACE, f"{agent_id}|{instance_id}|{pool_id}|{collected_at_raw}"))


def observed_at(collected_at: datetime | None, received_at: datetime) -> tuple[datetime, bool]:
    """PR-6: the claim is used only inside ``[received − 1 h, received + 2 min]``; returns (time, skewed)."""
    if collected_at is None:
        return received_at, False
    if received_at - SKEW_PAST <= collected_at <= received_at + SKEW_FUTURE:
        return collected_at, False
    return received_at, True


def validate_pool_item(pool_id: str, az: str, price: Decimal | None, instance_type: str, region: str) -> list[str]:
    """PR-5 item validation; returns the failing flags (empty = valid)."""
    flags: list[str] = []
    if pool_id != f"{instance_type}.{az}":
        flags.append("pool_id_mismatch")
    if not az.startswith(region) or az == region:
        flags.append("az_outside_region")
    if price is None or not price.is_finite() or price <= 0 or price > MAX_PRICE:
        flags.append("price_out_of_range")
    return flags


def is_agent_fallback_estimate(price: Decimal, valid_spot_prices: list[Decimal]) -> bool:
    """PR-28: 0.1, or 3 × the mean of the report's valid spot prices (6 dp), is the agent's guess."""
    if price == AGENT_FALLBACK_ONDEMAND:
        return True
    if not valid_spot_prices:
        return False
    mean = sum(valid_spot_prices, Decimal(0)) / len(valid_spot_prices)
    q = Decimal("0.000001")
    return (3 * mean).quantize(q) == price.quantize(q)


def valid_ondemand(price: Decimal | None) -> bool:
    return price is not None and price.is_finite() and Decimal(0) < price <= MAX_PRICE
