"""A simulated spot market: where agents run, what pools cost, and when the cloud interrupts an instance.

Deterministic for a seed. Prices drift slowly around a base (spot prices change slowly, interruption risk is the
signal); interruption notices follow the AWS pattern: an optional rebalance recommendation first, then the
termination notice two minutes before the instance is reclaimed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

NOTICE_LEAD_SECONDS = 120.0  # AWS: a termination notice comes two minutes before the reclaim


@dataclass(frozen=True, slots=True)
class Offering:
    """One instance type in one region: the AZs with spot capacity, prices in $/hour, and its share of the fleet."""

    instance_type: str
    region: str
    azs: tuple[str, ...]
    spot_base: float
    on_demand: float
    share: float


# One type has a single spot AZ, so its agents have no alternative pool: their notices exercise the on-demand
# fallback (W20) instead of a replica.
DEFAULT_OFFERINGS: tuple[Offering, ...] = (
    Offering("t3.medium", "us-east-1", tuple(f"us-east-1{z}" for z in "abcdef"), 0.0125, 0.0416, 0.55),
    Offering("m5.large", "us-east-1", tuple(f"us-east-1{z}" for z in "abcdf"), 0.0350, 0.0960, 0.25),
    Offering("c5.xlarge", "us-west-2", tuple(f"us-west-2{z}" for z in "abcd"), 0.0680, 0.1700, 0.15),
    Offering("r5.16xlarge", "us-east-2", ("us-east-2a",), 1.1000, 4.0320, 0.05),
)


@dataclass(frozen=True, slots=True)
class Interruption:
    """What the instance-action metadata will say for one instance, in loop seconds since the run started."""

    notice_at: float
    rebalance_at: float | None = None

    @property
    def reclaim_at(self) -> float:
        return self.notice_at + NOTICE_LEAD_SECONDS


@dataclass(slots=True)
class Market:
    seed: int
    offerings: Sequence[Offering] = DEFAULT_OFFERINGS
    _phase: dict[str, float] = field(default_factory=dict)
    _interruptions: dict[str, Interruption] = field(default_factory=dict)

    def offering(self, instance_type: str, region: str) -> Offering:
        for offering in self.offerings:
            if (offering.instance_type, offering.region) == (instance_type, region):
                return offering
        raise KeyError(f"no offering {instance_type} in {region}")

    def place(self, rng: random.Random) -> tuple[Offering, str]:
        """A new agent's instance type, region and AZ, by fleet share."""
        offering = rng.choices(list(self.offerings), weights=[o.share for o in self.offerings])[0]
        return offering, rng.choice(offering.azs)

    def spot_price(self, instance_type: str, az: str, sim_seconds: float) -> float:
        """A slow daily wave plus a small per-pool offset, rounded to the 4 decimals AWS publishes."""
        offering = next(o for o in self.offerings if o.instance_type == instance_type and az in o.azs)
        key = f"{instance_type}.{az}"
        if key not in self._phase:
            pool_rng = random.Random(f"{self.seed}:{key}")  # noqa: S311 - simulated prices
            self._phase[key] = pool_rng.uniform(0, 2 * math.pi)
        phase = self._phase[key]
        wave = 0.08 * math.sin(2 * math.pi * sim_seconds / 86_400 + phase) + 0.05 * math.sin(phase * 7)
        return round(offering.spot_base * (1 + wave), 4)

    def spot_pools(self, instance_type: str, region: str, sim_seconds: float) -> list[tuple[str, float]]:
        """§3.6 ``spot_pools``: every AZ of the type with spot capacity and its price."""
        offering = self.offering(instance_type, region)
        return [(az, self.spot_price(instance_type, az, sim_seconds)) for az in offering.azs]

    def interrupt(self, instance_id: str, interruption: Interruption) -> None:
        """Plan an interruption; the first plan for an instance wins (an instance is reclaimed once)."""
        self._interruptions.setdefault(instance_id, interruption)

    def interruption(self, instance_id: str) -> Interruption | None:
        return self._interruptions.get(instance_id)

    def rebalance_due(self, instance_id: str, now: float) -> bool:
        planned = self._interruptions.get(instance_id)
        return planned is not None and planned.rebalance_at is not None and planned.rebalance_at <= now

    def notice_due(self, instance_id: str, now: float) -> Interruption | None:
        planned = self._interruptions.get(instance_id)
        return planned if planned is not None and planned.notice_at <= now else None
