"""The simple policies spotopt is compared with: on-demand only, one fixed zone, greedy relaunch (with and without
a blocklist), a hot standby in another zone, and the oracle (perfect foresight).

Greedy policies break price ties at random with a fixed seed (all p3.2xlarge spot prices of the snapshot are equal).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from spotopt.entrypoints.replay.cloud import Cloud, Instance

HOUR = 3600


def _launched(instance: Instance | None) -> Instance:
    if instance is None:
        raise RuntimeError("an on-demand or obtainable launch cannot fail")
    return instance


class BasePolicy:
    """No-op hooks, and one ``pending`` replacement that takes over the workload as soon as it is ready."""

    name = "base"

    def __init__(self) -> None:
        self.pending: Instance | None = None

    def start(self, cloud: Cloud) -> None:
        """The initial placement starts warm (ready at t=0) for every policy."""

    def on_rebalance(self, cloud: Cloud, instance: Instance) -> None:
        """Rebalance recommendations are ignored unless a policy says otherwise."""

    def on_notice(self, cloud: Cloud, instance: Instance, deadline: int) -> None:
        """Termination notices are ignored unless a policy says otherwise."""

    def on_preempted(self, cloud: Cloud, instance: Instance) -> None:  # noqa: ARG002 - hook signature
        if instance is self.pending:
            self.pending = None

    def on_ready(self, cloud: Cloud, instance: Instance) -> None:
        if instance is self.pending:
            self.pending = None
            self.take_over(cloud, instance)

    def on_step(self, cloud: Cloud) -> None:
        """Nothing happens between events unless a policy says otherwise."""

    def take_over(self, cloud: Cloud, instance: Instance) -> None:
        old = cloud.primary
        cloud.serve(instance)
        if old is not None and old is not instance:
            cloud.terminate(old)


class OnDemandOnly(BasePolicy):
    name = "on-demand only"

    def start(self, cloud: Cloud) -> None:
        cloud.serve(_launched(cloud.launch(None, warm=True)))


class Relaunching(BasePolicy):
    """Replace the primary at its notice (or at preemption when no notice comes); fall back to on-demand when no
    zone can launch and go back to spot as soon as one can.
    """

    def __init__(self, zones: Sequence[str], *, seed: int = 0, fallback: bool = True) -> None:
        super().__init__()
        self.zones = tuple(zones)
        self.fallback = fallback
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible tie-break, not a secret

    def candidates(self, cloud: Cloud, exclude: str | None) -> list[str]:
        return [z for z in self.zones if z != exclude and cloud.obtainable(z)]

    def choose(self, cloud: Cloud, exclude: str | None) -> str | None:
        zones = self.candidates(cloud, exclude)
        if not zones:
            return None
        cheapest = min(cloud.market.zone(z).spot_price for z in zones)
        return self.rng.choice([z for z in zones if cloud.market.zone(z).spot_price == cheapest])

    def start(self, cloud: Cloud) -> None:
        zone = self.choose(cloud, None)
        instance = cloud.launch(zone, warm=True) if zone is not None or self.fallback else None
        if instance is not None:
            cloud.serve(instance)

    def replace(self, cloud: Cloud, exclude: str | None) -> None:
        zone = self.choose(cloud, exclude)
        if zone is not None or self.fallback:
            self.pending = cloud.launch(zone)

    def on_notice(self, cloud: Cloud, instance: Instance, deadline: int) -> None:  # noqa: ARG002
        if instance is cloud.primary and self.pending is None:
            self.replace(cloud, instance.zone)

    def on_preempted(self, cloud: Cloud, instance: Instance) -> None:
        super().on_preempted(cloud, instance)
        if cloud.primary is None and self.pending is None:
            self.replace(cloud, instance.zone)

    def on_step(self, cloud: Cloud) -> None:
        primary = cloud.primary
        if self.pending is not None:
            return
        if primary is None:
            self.replace(cloud, None)
        elif primary.zone is None:
            zone = self.choose(cloud, None)
            if zone is not None:
                self.pending = cloud.launch(zone)


class Greedy(Relaunching):
    name = "greedy cheapest"


class FixedZone(Relaunching):
    """Stay in one zone (the one obtainable most often over the trace, chosen with hindsight); wait when it is down."""

    name = "fixed best zone"

    def __init__(self, zone: str) -> None:
        super().__init__((zone,), fallback=False)

    def on_notice(self, cloud: Cloud, instance: Instance, deadline: int) -> None:
        """The only zone is about to go down: nothing to do but wait."""

    def candidates(self, cloud: Cloud, exclude: str | None) -> list[str]:  # noqa: ARG002 - its own zone always
        return [z for z in self.zones if cloud.obtainable(z)]


class GreedyBlocklist(Relaunching):
    """Greedy, but a zone that interrupted us within ``hours`` is used only when nothing else can launch."""

    name = "greedy with blocklist"

    def __init__(self, zones: Sequence[str], *, hours: int = 24, seed: int = 0) -> None:
        super().__init__(zones, seed=seed)
        self.hours = hours
        self.hit: dict[str, int] = {}

    def _note(self, cloud: Cloud, instance: Instance) -> None:
        if instance.zone is not None:
            self.hit[instance.zone] = cloud.now

    def on_notice(self, cloud: Cloud, instance: Instance, deadline: int) -> None:
        self._note(cloud, instance)
        super().on_notice(cloud, instance, deadline)

    def on_preempted(self, cloud: Cloud, instance: Instance) -> None:
        self._note(cloud, instance)
        super().on_preempted(cloud, instance)

    def candidates(self, cloud: Cloud, exclude: str | None) -> list[str]:
        zones = super().candidates(cloud, exclude)
        fresh = [z for z in zones if cloud.now - self.hit.get(z, -10 * self.hours * HOUR) >= self.hours * HOUR]
        return fresh or zones


class HotStandby(Relaunching):
    """A warm standby always runs in another zone; the primary's notice promotes it at once."""

    name = "hot standby (other zone)"

    def __init__(self, zones: Sequence[str], *, seed: int = 0) -> None:
        super().__init__(zones, seed=seed)
        self.standby: Instance | None = None

    def on_notice(self, cloud: Cloud, instance: Instance, deadline: int) -> None:  # noqa: ARG002
        if instance is self.standby:
            cloud.terminate(instance)
            self.standby = None
        elif instance is cloud.primary and self.pending is None:
            standby, self.standby = self.standby, None
            if standby is not None and standby.ready(cloud.now):
                self.take_over(cloud, standby)
            elif standby is not None:
                self.pending = standby
            else:
                self.replace(cloud, instance.zone)

    def on_preempted(self, cloud: Cloud, instance: Instance) -> None:
        if instance is self.standby:
            self.standby = None
        elif instance is cloud.primary or cloud.primary is None:
            self.on_notice(cloud, instance, cloud.now)
        super().on_preempted(cloud, instance)

    def on_step(self, cloud: Cloud) -> None:
        super().on_step(cloud)
        primary = cloud.primary
        if self.standby is None and self.pending is None and primary is not None and primary.zone is not None:
            zone = self.choose(cloud, primary.zone)
            self.standby = cloud.launch(zone) if zone is not None else None


class Oracle(BasePolicy):
    """Perfect foresight: hand over ``cold_start`` before the primary's zone goes down, to the zone that will stay
    up longest; on-demand only to bridge times when no zone will be up; back to spot when a zone will stay up for at
    least two cold starts after warming up.
    """

    name = "oracle (perfect foresight)"

    def __init__(self, zones: Sequence[str]) -> None:
        super().__init__()
        self.zones = tuple(zones)

    def _longest(self, cloud: Cloud, exclude: str | None, min_up: int) -> str | None:
        t, market = cloud.now, cloud.market
        ups = {z: market.next_unobtainable(z, t) for z in self.zones if z != exclude and cloud.obtainable(z)}
        best = max(sorted(ups), key=lambda z: ups[z], default=None)
        return best if best is not None and ups[best] - t > min_up else None

    def start(self, cloud: Cloud) -> None:
        zone = self._longest(cloud, None, 0)
        cloud.serve(_launched(cloud.launch(zone, warm=True)))

    def on_step(self, cloud: Cloud) -> None:
        if self.pending is not None:
            return
        primary, cold = cloud.primary, cloud.settings.cold_start
        if primary is None or primary.zone is None:
            zone = self._longest(cloud, None, 3 * cold)
            if zone is not None or primary is None:
                self.pending = cloud.launch(zone)
            return
        down = cloud.market.next_unobtainable(primary.zone, cloud.now)
        if down - cloud.now <= cold and down < cloud.market.duration:
            # The successor must stay up long enough for its own successor to warm up in time.
            zone = self._longest(cloud, primary.zone, down - cloud.now + cold)
            self.pending = cloud.launch(zone)
