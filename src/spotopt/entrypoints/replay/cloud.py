"""The simulated cloud: instances that launch, warm up, get warned and preempted, and the bill.

Model (stated in docs/benchmarks.md):
- A spot instance can be launched in a zone only while the zone is obtainable; a failed launch costs nothing and
  takes no time, so every policy learns current capacity by trying (never how long it will last).
- A running spot instance is preempted at the first tick its zone is not obtainable. Its termination notice comes
  ``notice_seconds`` earlier (at launch when less is left); a rebalance recommendation, when enabled, comes
  ``rebalance_seconds`` earlier.
- A new instance (spot or on-demand) serves only ``cold_start`` seconds after launch; on-demand is always
  obtainable and never preempted.
- The workload is available while its primary instance runs and has finished its cold start.
- Billing is per second with a 60 s minimum per instance, at the zone's spot price or the on-demand price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from spotopt.entrypoints.replay.market import Market

MINIMUM_BILLED_SECONDS = 60


@dataclass(eq=False, slots=True)
class Instance:
    """One simulated instance; ``zone`` None means on-demand."""

    number: int
    zone: str | None
    price: Decimal
    launched_at: int
    ready_at: int
    ended_at: int | None = None
    preempted: bool = False
    noticed_at: int | None = None
    rebalanced_at: int | None = None
    hit_while_primary: bool = False
    announced_ready: bool = False

    @property
    def running(self) -> bool:
        return self.ended_at is None

    def ready(self, t: int) -> bool:
        return self.ended_at is None and t >= self.ready_at

    @property
    def instance_id(self) -> str:
        """An EC2-shaped id (``i-`` and 17 hex digits) for the domain."""
        return f"i-{self.number:017x}"

    def billed_seconds(self, end: int) -> int:
        stop = self.ended_at if self.ended_at is not None else end
        return max(MINIMUM_BILLED_SECONDS, stop - self.launched_at)


class Policy(Protocol):
    """What the replay drives; every hook may launch, terminate and pick the primary through the cloud."""

    name: str

    def start(self, cloud: Cloud) -> None: ...

    def on_rebalance(self, cloud: Cloud, instance: Instance) -> None: ...

    def on_notice(self, cloud: Cloud, instance: Instance, deadline: int) -> None: ...

    def on_preempted(self, cloud: Cloud, instance: Instance) -> None: ...

    def on_ready(self, cloud: Cloud, instance: Instance) -> None: ...

    def on_step(self, cloud: Cloud) -> None: ...


@dataclass(frozen=True, slots=True)
class CloudSettings:
    cold_start: int
    notice_seconds: int = 120
    rebalance_seconds: int | None = None
    notices: bool = True
    step: int = 15

    def __post_init__(self) -> None:
        if self.step <= 0 or self.cold_start < 0 or self.notice_seconds < 0:
            raise ValueError("step must be positive; cold start and notice lead must not be negative")
        if self.rebalance_seconds is not None and self.rebalance_seconds <= self.notice_seconds:
            raise ValueError("a rebalance recommendation must come before the termination notice")


class Cloud:
    def __init__(self, market: Market, settings: CloudSettings) -> None:
        for value in (market.gap_seconds, settings.cold_start, settings.notice_seconds, settings.rebalance_seconds):
            if value is not None and value % settings.step:
                raise ValueError(f"{value} s is not a multiple of the {settings.step} s simulation step")
        self.market = market
        self.settings = settings
        self.now = 0
        self.instances: list[Instance] = []
        self.primary: Instance | None = None
        self._last_primary: Instance | None = None
        self._live: list[Instance] = []
        self.migrations = 0
        self.outage_seconds = 0

    def obtainable(self, zone: str) -> bool:
        return self.market.obtainable(zone, self.now)

    def launch(self, zone: str | None, *, warm: bool = False) -> Instance | None:
        """Launch in ``zone`` (None: on-demand); None when the zone has no capacity now. ``warm`` only at t=0."""
        if zone is not None and not self.obtainable(zone):
            return None
        if warm and self.now != 0:
            raise ValueError("only the initial placement starts warm")
        price = self.market.zone(zone).spot_price if zone is not None else self.market.ondemand_price
        ready_at = self.now if warm else self.now + self.settings.cold_start
        instance = Instance(len(self.instances) + 1, zone, price, self.now, ready_at)
        self.instances.append(instance)
        self._live.append(instance)
        return instance

    def terminate(self, instance: Instance) -> None:
        if instance.ended_at is None:
            instance.ended_at = self.now
            self._live.remove(instance)
        if self.primary is instance:
            self.primary = None

    def serve(self, instance: Instance) -> None:
        """Make ``instance`` the primary; it serves once its cold start is over."""
        if not instance.running:
            raise ValueError("cannot serve from an instance that has ended")
        if self._last_primary is not None and self._last_primary is not instance:
            self.migrations += 1
        self.primary = self._last_primary = instance

    def running(self) -> list[Instance]:
        return list(self._live)

    def run(self, policy: Policy) -> None:
        policy.start(self)
        step = self.settings.step
        for t in range(0, self.market.duration, step):
            self.now = t
            self._tick(policy)
            policy.on_step(self)
            primary = self.primary
            if primary is None or not primary.ready(t):
                self.outage_seconds += step
        self.now = self.market.duration
        for instance in self.running():
            self.terminate(instance)

    def _tick(self, policy: Policy) -> None:
        t, s = self.now, self.settings
        for instance in self.running():
            if instance.zone is None:
                continue
            down = self.market.next_unobtainable(instance.zone, t)
            if down == t:
                instance.preempted = True
                instance.hit_while_primary |= instance is self.primary
                self.terminate(instance)
                policy.on_preempted(self, instance)
                continue
            if down >= self.market.duration:  # the trace ends: nothing is known beyond it, nobody is warned
                continue
            if s.rebalance_seconds is not None and instance.rebalanced_at is None and down - t <= s.rebalance_seconds:
                instance.rebalanced_at = t
                policy.on_rebalance(self, instance)
            if s.notices and instance.noticed_at is None and down - t <= s.notice_seconds:
                instance.noticed_at = t
                instance.hit_while_primary |= instance is self.primary
                policy.on_notice(self, instance, down)
        for instance in self.running():
            if not instance.announced_ready and instance.ready(t):
                instance.announced_ready = True
                policy.on_ready(self, instance)

    def bill(self) -> Decimal:
        end = self.market.duration
        return sum((i.price * i.billed_seconds(end) / 3600 for i in self.instances), Decimal(0))
