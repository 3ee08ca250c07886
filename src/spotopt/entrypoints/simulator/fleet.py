"""A fleet run: clients and agents, jittered starts, the scenarios, and the summary.

Scenarios (times in wall seconds since the agents start):
- background interruptions: each initial spot instance is interrupted during the run with the probability that
  ``interruption_rate`` (per simulated agent-hour) gives; half of them get a rebalance recommendation 90 s first;
- reconnect storm at ``storm_at``: every agent restarts (shutdown heartbeat, register, every worker at once)
  within ``storm_window`` seconds;
- interruption burst at ``burst_at``: ``burst_agents`` agents of one pool (the most crowded unless named) get
  their termination notices within ``burst_window`` seconds; every other one first gets a rebalance
  recommendation 90 s before its notice, so some replicas are ready and some are not.
"""

from __future__ import annotations

import asyncio
import math
import random
import resource
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from spotopt.entrypoints.simulator.agent import SimAgent
from spotopt.entrypoints.simulator.context import Cadence, FleetContext
from spotopt.entrypoints.simulator.market import Interruption, Market
from spotopt.entrypoints.simulator.protocol import InstanceFacts
from spotopt.entrypoints.simulator.recorder import AckLog, Recorder
from spotopt.entrypoints.simulator.scheduler import Scheduler
from spotopt.entrypoints.simulator.summary import build_summary
from spotopt.entrypoints.simulator.transport import AgentWire

REBALANCE_LEAD = 90.0
SPOT_SHARE = 0.9


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetOptions:
    agents: int
    server: str
    admin_token: str
    duration: float = 120.0
    seed: int = 1
    speed: float = 1.0
    concurrency: int = 256
    agents_per_client: int | None = None
    ramp: float = 60.0
    storm_at: float | None = None
    storm_window: float = 10.0
    burst_at: float | None = None
    burst_agents: int = 500
    burst_window: float = 180.0
    burst_pool: str | None = None
    interruption_rate: float = 0.0
    launch_failure_rate: float = 0.02
    cadence: Cadence = field(default_factory=Cadence)
    acked_path: Path | None = None
    drain: float = 15.0
    narrate: Callable[[str], None] | None = None

    @property
    def per_client(self) -> int:
        """W09: one token carries about 60 agents at real cadence; compressed time raises every agent's rate."""
        return self.agents_per_client or max(1, int(50 / self.speed))


async def create_clients(options: FleetOptions, count: int, tag: str) -> list[tuple[str, str]]:
    """M1, a few at a time: (client id, client token) for each client of the fleet."""
    admin = {"Authorization": f"Bearer {options.admin_token}"}
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=options.server, timeout=60) as client:

        async def one(n: int) -> tuple[str, str]:
            body = {"name": f"sim-{tag}-{n:04d}", "max_agents": options.per_client}
            async with gate:
                answer = await client.post("/api/admin/clients/create", json=body, headers=admin)
            if answer.status_code != 201:
                raise RuntimeError(f"creating client {n}: {answer.status_code} {answer.text[:300]}")
            created = answer.json()
            return created["client"]["id"], created["client_token"]

        return list(await asyncio.gather(*(one(n) for n in range(count))))


def build_agents(ctx: FleetContext, clients: list[tuple[str, str]], options: FleetOptions, tag: str) -> list[SimAgent]:
    agents = []
    for n in range(options.agents):
        client_id, token = clients[n // options.per_client]
        offering, az = ctx.market.place(ctx.rng)
        mode = "spot" if ctx.rng.random() < SPOT_SHARE else "ondemand"
        instance = InstanceFacts(
            ctx.new_instance_id(), offering.instance_type, offering.region, az, mode, private_ip=ctx.new_private_ip()
        )
        agents.append(
            SimAgent(ctx, logical_id=f"sim-{tag}-{n:05d}", token=token, client_id=client_id, instance=instance)
        )
    return agents


def interrupt(ctx: FleetContext, agent: SimAgent, instance_id: str, interruption: Interruption) -> None:
    ctx.market.interrupt(instance_id, interruption)

    async def reclaim() -> None:
        await agent.reclaim(instance_id)

    ctx.scheduler.at(interruption.reclaim_at, reclaim)


def plan_background(ctx: FleetContext, agents: list[SimAgent], options: FleetOptions) -> int:
    hours = options.duration * options.speed / 3600
    chance = 1 - math.exp(-options.interruption_rate * hours)
    planned = 0
    for agent in agents:
        instance = agent.first_instance
        if instance.mode != "spot" or ctx.rng.random() >= chance:
            continue
        notice = ctx.rng.uniform(min(options.ramp + REBALANCE_LEAD, options.duration / 2), options.duration)
        rebalance = notice - REBALANCE_LEAD if ctx.rng.random() < 0.5 else None
        interrupt(ctx, agent, instance.instance_id, Interruption(notice_at=notice, rebalance_at=rebalance))
        planned += 1
    return planned


def plan_storm(ctx: FleetContext, agents: list[SimAgent], options: FleetOptions, notes: list[str]) -> None:
    start = options.storm_at
    if start is None:
        return
    for agent in agents:
        ctx.scheduler.at(start + ctx.rng.uniform(0, options.storm_window), agent.restart)
    notes.append(f"reconnect storm at {start:g} s: {len(agents):,} agents restart within {options.storm_window:g} s")


def plan_burst(ctx: FleetContext, agents: list[SimAgent], options: FleetOptions, notes: list[str]) -> None:
    start = options.burst_at
    if start is None:
        return

    async def burst() -> None:
        running = [(a, p.instance) for a in agents for p in a.alive()[-1:] if p.instance.mode == "spot"]
        crowd = Counter(instance.pool_id for _, instance in running)
        pool = options.burst_pool or (crowd.most_common(1)[0][0] if crowd else None)
        chosen = [(a, i) for a, i in running if i.pool_id == pool][: options.burst_agents]
        window, now = options.burst_window, ctx.now()
        for k, (agent, instance) in enumerate(chosen):
            if k % 2 == 0 and window > REBALANCE_LEAD:
                at = now + ctx.rng.uniform(0, window - REBALANCE_LEAD)
                planned = Interruption(notice_at=at + REBALANCE_LEAD, rebalance_at=at)
            else:
                planned = Interruption(notice_at=now + ctx.rng.uniform(0, window))
            interrupt(ctx, agent, instance.instance_id, planned)
        ctx.recorder.event("burst_agents", len(chosen))
        notes.append(f"interruption burst at {now:.0f} s: {len(chosen)} agents of pool {pool} within {window:g} s")
        ctx.say(f"interruption burst: {len(chosen)} agents of {pool}")

    ctx.scheduler.at(start, burst)


def compression(options: FleetOptions, cadence: Cadence) -> str:
    rate = options.agents * cadence.requests_per_minute() / 60
    if options.speed == 1:
        return f"nothing (real time); offered load ≈ {rate:,.0f} req/s at agent v4 cadences"
    s = options.speed
    return (
        f"×{s:g}: agent worker intervals (heartbeat {cadence.heartbeat / s:g} s, command poll "
        f"{cadence.pending_commands / s:g} s, pricing report {cadence.pricing / s:g} s) and simulated instance "
        f"launch/boot times, so a fleet hour takes {60 / s:g} min and the offered load is that of "
        f"{options.agents * s:,.0f} agents at real cadence (≈ {rate * s:,.0f} req/s); not compressed: the 30 s HTTP "
        "timeout, the 120 s termination-notice lead, the storm and burst windows, every server-side timer"
    )


async def run_fleet(options: FleetOptions) -> dict[str, Any]:
    tag = secrets.token_hex(3)
    clients = await create_clients(options, math.ceil(options.agents / options.per_client), tag)
    recorder, scheduler = Recorder(), Scheduler()
    wire = AgentWire(options.server, recorder, concurrency=options.concurrency, started=scheduler.started)
    acks = AckLog(options.acked_path)
    ctx = FleetContext(
        wire=wire,
        market=Market(options.seed),
        recorder=recorder,
        acks=acks,
        scheduler=scheduler,
        cadence=options.cadence,
        speed=options.speed,
        rng=random.Random(options.seed),  # noqa: S311 - a reproducible simulation, not security
        launch_failure_rate=options.launch_failure_rate,
        narrate=options.narrate,
    )
    agents = build_agents(ctx, clients, options, tag)
    for agent in agents:
        scheduler.at(ctx.rng.uniform(0, options.ramp), _starter(agent))
    notes = [f"{plan_background(ctx, agents, options)} background interruptions planned"]
    plan_storm(ctx, agents, options, notes)
    plan_burst(ctx, agents, options, notes)
    cpu_before = _cpu_seconds()
    try:
        await scheduler.run(until=options.duration)
        cancelled = await scheduler.drain(options.drain)
    finally:
        await wire.close()
        acks.close()
    meta = {
        "agents": options.agents,
        "clients": len(clients),
        "wall_seconds": scheduler.now(),
        "speed": options.speed,
        "seed": options.seed,
        "concurrency": options.concurrency,
        "server": options.server,
        "compressed": compression(options, options.cadence),
        "scenario": notes,
        "simulator_cpu_seconds": _cpu_seconds() - cpu_before,
        "acked": acks.count,
        "cancelled_at_end": cancelled,
        "simulator_failures": [repr(e) for e in scheduler.failures[:5]],
        "simulator_failure_count": len(scheduler.failures),
    }
    return build_summary(recorder, meta)


def _starter(agent: SimAgent) -> Callable[[], Any]:
    async def start() -> None:
        agent.start_process(agent.first_instance)

    return start


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
