"""What every simulated agent shares: the wire, the market, the clock, the recorder, and the time compression."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from spotopt.entrypoints.simulator.market import Market
from spotopt.entrypoints.simulator.recorder import AckLog, Recorder
from spotopt.entrypoints.simulator.scheduler import Scheduler
from spotopt.entrypoints.simulator.transport import AgentWire


@dataclass(frozen=True, slots=True, kw_only=True)
class Cadence:
    """Agent v4's worker intervals (agent-v4-wire.md §2) and simulated instance timings, in simulated seconds.

    The pricing report runs every 20 min (the fleet's ``PRICING_REPORT_INTERVAL=1200``; agent v4's own default is
    300 s). Cleanup runs first after 60 s, then hourly; systemd restarts a failed agent after 10 s.
    """

    heartbeat: float = 30
    pending_commands: float = 15
    replica_polling: float = 30
    config: float = 60
    pricing: float = 1200
    termination_check: float = 5
    rebalance_check: float = 30
    cleanup_first: float = 60
    cleanup: float = 3600
    restart: float = 10
    launch: float = 3  # RunInstances until the instance id is known
    boot: float = 40  # until the new instance is running and its agent starts
    traffic: float = 2  # traffic switch after the new instance is ready

    def requests_per_minute(self) -> float:
        """Default-cadence load of one agent (W09: ≈ 9.2/min with a 300 s pricing interval)."""
        return 60 * (1 / self.heartbeat + 1 / self.pending_commands + 1 / self.replica_polling) + 60 * (
            1 / self.config + 1 / self.pricing
        )


class FleetContext:
    def __init__(
        self,
        *,
        wire: AgentWire,
        market: Market,
        recorder: Recorder,
        acks: AckLog,
        scheduler: Scheduler,
        cadence: Cadence,
        speed: float,
        rng: random.Random,
        launch_failure_rate: float = 0.0,
        narrate: Callable[[str], None] | None = None,
    ) -> None:
        self.wire = wire
        self.market = market
        self.recorder = recorder
        self.acks = acks
        self.scheduler = scheduler
        self.cadence = cadence
        self.speed = speed
        self.rng = rng
        self.launch_failure_rate = launch_failure_rate
        self._narrate = narrate
        self._started_utc = datetime.now(UTC)
        self._instances = 0
        self._tag = rng.getrandbits(20)
        self.reclaim: Callable[[str], None] = lambda _instance_id: None  # set by the fleet

    def wall(self, sim_seconds: float) -> float:
        """Simulated seconds → wall seconds (time compression)."""
        return sim_seconds / self.speed

    async def sleep(self, sim_seconds: float) -> None:
        await asyncio.sleep(self.wall(sim_seconds))

    def now(self) -> float:
        return self.scheduler.now()

    def sim_now(self) -> float:
        return self.now() * self.speed

    def utc_at(self, run_seconds: float) -> datetime:
        return self._started_utc + timedelta(seconds=run_seconds)

    def new_instance_id(self) -> str:
        """Unique in the run: a random 5-hex run tag and a counter make the 17 hex digits of an EC2 id."""
        self._instances += 1
        return f"i-{self._tag:05x}{self._instances:012x}"

    def new_private_ip(self) -> str:
        n = self._instances
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def say(self, text: str) -> None:
        if self._narrate is not None:
            self._narrate(f"[{self.now():7.1f}s] {text}")
