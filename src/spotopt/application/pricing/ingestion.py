"""Pieces of pricing-report ingestion (domain §4.1, §4.5, §4.6) shared by the A6 use case and its tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.attribution import is_placeholder
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.pricing.market import (
    OnDemandObservation,
    OnDemandPrice,
    is_agent_fallback_estimate,
    valid_ondemand,
    validate_pool_item,
)
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.replicas.values import ReplicaKind
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import AgentId, ClientId, new_id
from spotopt.domain.shared.money import round_price

# Prices outside what a 6-decimal column holds cannot be stored at all: they are kept as None.
_STORABLE_LIMIT = Decimal(10) ** 12
MAX_POOL_ID_LENGTH = 64
ONDEMAND_CHANGE_RATIO = Decimal("0.01")
AGENT_SOURCE = "agent"

# PR-2: the reporter's role at receipt → source type (kept-old, terminated and unknown instances are secondary).
_ROLE_SOURCE: dict[InstanceRole, SourceType] = {
    InstanceRole.PRIMARY: SourceType.PRIMARY,
    InstanceRole.KEPT_OLD: SourceType.SECONDARY,
    InstanceRole.TERMINATED: SourceType.SECONDARY,
}
_REPLICA_SOURCE: dict[ReplicaKind, SourceType] = {
    ReplicaKind.AUTOMATIC_REBALANCE: SourceType.REPLICA_AUTOMATIC,
    ReplicaKind.AUTOMATIC_TERMINATION: SourceType.REPLICA_AUTOMATIC,
    ReplicaKind.MANUAL: SourceType.REPLICA_MANUAL,
}


def source_type_for(role: InstanceRole | None, replica_kind: ReplicaKind | None) -> SourceType:
    """PR-2: primary → ``primary``; standby by its replica's kind; anything else → ``secondary``."""
    if role is InstanceRole.STANDBY:
        return _REPLICA_SOURCE.get(replica_kind, SourceType.SECONDARY) if replica_kind else SourceType.SECONDARY
    return _ROLE_SOURCE.get(role, SourceType.SECONDARY) if role else SourceType.SECONDARY


def storable_price(value: Decimal | None) -> Decimal | None:
    """C-3: a price as stored (6 dp, half-even); None when no price column could hold it."""
    if value is None or not value.is_finite() or abs(value) >= _STORABLE_LIMIT:
        return None
    return round_price(value)


def item_flags(pool_id: str, az: str, price: Decimal | None, instance_type: str, region: str) -> list[str]:
    """PR-5 on the stored (6 dp) price; placeholder facts never make a pool id valid (pitfall 13)."""
    flags = validate_pool_item(pool_id, az, price, instance_type, region)
    if is_placeholder(instance_type) or is_placeholder(region):
        flags.append("instance_facts_unknown")
    if len(pool_id) > MAX_POOL_ID_LENGTH:
        flags.append("pool_id_too_long")
    return flags


@dataclass(frozen=True, slots=True, kw_only=True)
class OnDemandOffer:
    """PR-8: the report's on-demand price, offered to the catalogue of (type, region) as observed at ``observed_at``."""

    agent_id: AgentId
    instance_type: str
    region: str
    price: Decimal
    observed_at: datetime
    valid_spot_prices: list[Decimal] = field(default_factory=list)

    def observation(self) -> OnDemandObservation:
        """PR-28: out-of-range prices and agent fallback estimates are stored flagged and are never current."""
        flags: list[str] = []
        if not valid_ondemand(self.price):
            flags.append("price_out_of_range")
        elif is_agent_fallback_estimate(self.price, self.valid_spot_prices):
            flags.append("agent_estimate")
        return OnDemandObservation(
            observation_id=new_id(),
            instance_type=self.instance_type,
            region=self.region,
            price=self.price,
            source=AGENT_SOURCE,
            observed_at=self.observed_at,
            is_valid=not flags,
            flags=flags,
            agent_id=self.agent_id,
        )


async def offer_ondemand(uow: UnitOfWork, offer: OnDemandOffer) -> tuple[OnDemandObservation, list[DomainEvent]]:
    """PR-27 – PR-29: keep the observation; the most recent valid one is current; a > 1 % change emits an event."""
    observation = offer.observation()
    await uow.pricing.add_ondemand_observation(observation)
    if not observation.is_valid:
        return observation, []
    # A new catalogue row starts at count 0 and takes this observation like any other (no change, no event).
    initial = OnDemandPrice(offer.instance_type, offer.region, offer.price, AGENT_SOURCE, offer.observed_at, 0)
    current = await uow.pricing.ensure_ondemand(initial)
    current.observation_count += 1
    if offer.observed_at < current.observed_at:
        return observation, []  # an older observation is history, not the most recent one
    previous = current.price
    current.price, current.source, current.observed_at = offer.price, AGENT_SOURCE, offer.observed_at
    if abs(offer.price - previous) / previous <= ONDEMAND_CHANGE_RATIO:
        return observation, []
    return observation, [_ondemand_changed(offer, previous)]


def _ondemand_changed(offer: OnDemandOffer, previous: Decimal) -> DomainEvent:
    return DomainEvent(
        type="ondemand_price_changed",
        severity=Severity.INFO,
        message=f"On-demand price of {offer.instance_type} in {offer.region} changed from {previous} to {offer.price}",
        metadata={
            "instance_type": offer.instance_type,
            "region": offer.region,
            "previous_price": str(previous),
            "price": str(offer.price),
            "observed_at": offer.observed_at.isoformat(),
            "reporter_agent_id": offer.agent_id,
        },
    )


def clock_skew_dedup_key(agent_id: str, now: datetime) -> str:
    """PR-6: at most one ``clock_skew_detected`` per agent per UTC day."""
    return f"clock_skew_detected:{agent_id}:{now.date().isoformat()}"


def clock_skew_event(
    client_id: ClientId, agent_id: AgentId, instance_id: str, collected_at_raw: str | None, now: datetime
) -> DomainEvent:
    """PR-6: the ``collected_at`` claim lies outside ``[received − 1 h, received + 2 min]``."""
    return DomainEvent(
        type="clock_skew_detected",
        severity=Severity.WARNING,
        message=f"Agent clock skew: collected_at {collected_at_raw} received at {now.isoformat()}",
        client_id=client_id,
        agent_id=agent_id,
        instance_id=instance_id,
        metadata={
            "collected_at": collected_at_raw,
            "received_at": now.isoformat(),
            "dedup_key": clock_skew_dedup_key(agent_id, now),
        },
    )
