"""Pool choice for replicas: emergency selection (domain §3.7.1) and the manual standby (§7.2 U1)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal

from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.pools import PoolId


@dataclass(frozen=True, slots=True)
class PoolCandidate:
    """One pool as selection sees it: availability (§4.6), price in effect (None = unknown), risk, blocklist (DP-7)."""

    pool_id: str
    az: str
    available: bool
    price: Decimal | None
    risk: Decimal
    blocklisted: bool

    def __post_init__(self) -> None:
        if PoolId.parse(self.pool_id).az != self.az:
            raise InvalidValueError("az", "must be the text after the last '.' of the pool id")
        if not Decimal(0) <= self.risk <= Decimal(1):
            raise InvalidValueError("risk", "must be between 0 and 1")
        if self.price is not None and self.price <= 0:
            raise InvalidValueError("price", "must be positive")

    @property
    def instance_type(self) -> str:
        return PoolId.parse(self.pool_id).instance_type

    @property
    def region(self) -> str:
        return PoolId.parse(self.pool_id).region


def _hosts_replica(
    candidate: PoolCandidate, primary_pool_id: str | None, instance_type: str, region: str, exclude: Collection[str]
) -> bool:
    """RP-1 / §3.7.1 step 1: same type and region, available, not the primary's pool, AZ not excluded."""
    return (
        candidate.available
        and candidate.pool_id != primary_pool_id
        and candidate.instance_type == instance_type
        and candidate.region == region
        and candidate.az not in exclude
    )


def _price_key(candidate: PoolCandidate) -> tuple[bool, Decimal]:
    """Unknown prices sort after every known one."""
    return (candidate.price is None, candidate.price if candidate.price is not None else Decimal(0))


def _emergency_tiers(pools: list[PoolCandidate], risk_threshold: Decimal) -> Iterable[list[PoolCandidate]]:
    """§3.7.1 step 2: T1 safe and not blocklisted; T2 not blocklisted; T3 the rest (last resort)."""
    yield [p for p in pools if not p.blocklisted and p.risk <= risk_threshold]
    yield [p for p in pools if not p.blocklisted]
    yield [p for p in pools if p.blocklisted]


def select_emergency_pool(
    candidates: Iterable[PoolCandidate],
    *,
    primary_pool_id: str | None,
    instance_type: str,
    region: str,
    risk_threshold: Decimal,
    exclude_zones: Collection[str] = (),
    preferred_zones: Collection[str] = (),
    preferred_pool_id: str | None = None,
    failed_pool_ids: Collection[str] = (),
) -> PoolCandidate | None:
    """§3.7.1: first non-empty tier, ordered by preferred zone, risk, price (unknown last), pool id.

    A missing price never excludes a pool. The request's ``pool_id`` wins when it is in the chosen tier.
    RP-6: a replacement avoids the pools whose replicas of the episode already failed (a launch that just failed
    there would most likely fail again); such a pool is chosen only when no other pool can host the replica.
    """
    hosts = [p for p in candidates if _hosts_replica(p, primary_pool_id, instance_type, region, exclude_zones)]
    pools = [p for p in hosts if p.pool_id not in failed_pool_ids] or hosts
    tier = next((t for t in _emergency_tiers(pools, risk_threshold) if t), None)
    if tier is None:
        return None
    preferred = next((p for p in tier if p.pool_id == preferred_pool_id), None)
    if preferred is not None:
        return preferred
    return min(tier, key=lambda p: (p.az not in preferred_zones, p.risk, _price_key(p), p.pool_id))


def select_standby_pool(
    candidates: Iterable[PoolCandidate],
    *,
    primary_pool_id: str | None,
    instance_type: str,
    region: str,
    risk_threshold: Decimal,
    exclude_zones: Collection[str] = (),
    max_hourly_cost: Decimal | None = None,
) -> PoolCandidate | None:
    """U1: the cheapest priced safe pool; else the non-blocklisted pool with the lowest risk; else None.

    ``exclude_zones`` and ``max_hourly_cost`` are the R1 request-form filters (a pool above the cost is removed;
    an unknown price is not above it).
    """
    pools = [
        p
        for p in candidates
        if _hosts_replica(p, primary_pool_id, instance_type, region, exclude_zones)
        and not p.blocklisted
        and (max_hourly_cost is None or p.price is None or p.price <= max_hourly_cost)
    ]
    safe = [p for p in pools if p.price is not None and p.risk <= risk_threshold]
    if safe:
        return min(safe, key=lambda p: (_price_key(p), p.risk, p.pool_id))
    if pools:
        return min(pools, key=lambda p: (p.risk, _price_key(p), p.pool_id))
    return None
