"""One simulated agent: the logical agent (its client, its instances) and the agent v4 processes running for it.

A process is agent v4 on one instance (agent-v4-wire.md §2): it registers, then runs its workers, each first at
once (cleanup after 60 s), each sleeping its interval after every iteration. A failed registration sends the
shutdown heartbeat to ``/api/agents/None/heartbeat`` and systemd restarts the process 10 s later.

Fleet model: an agent process runs on the instance the agent launched as its primary (the registered instance,
a switch's new instance, a promoted replica). Standbys run no agent until they are promoted: agent v4 cannot tell
its pollers apart (wire §4, operational caveats), so a fleet that starts it on standbys is a different experiment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from spotopt.entrypoints.simulator import flows
from spotopt.entrypoints.simulator.answers import first_command, launch_requests, registered
from spotopt.entrypoints.simulator.context import FleetContext
from spotopt.entrypoints.simulator.protocol import (
    SHUTDOWN,
    InstanceFacts,
    cleanup_body,
    heartbeat_body,
    pricing_report_body,
    register_body,
)
from spotopt.entrypoints.simulator.transport import Answer


class SimAgent:
    def __init__(
        self, ctx: FleetContext, *, logical_id: str, token: str, client_id: str, instance: InstanceFacts
    ) -> None:
        self.ctx = ctx
        self.logical_id = logical_id
        self.token = token
        self.client_id = client_id
        self.first_instance = instance
        self.agent_id: str | None = None
        self.processes: list[Process] = []
        self.standbys: dict[str, InstanceFacts] = {}  # replicas this agent launched, by instance id
        self.reclaimed: set[str] = set()

    def start_process(self, instance: InstanceFacts, delay: float = 0.0) -> Process | None:
        """Agent v4 starts on ``instance`` after ``delay`` simulated seconds (not on a reclaimed instance)."""
        if instance.instance_id in self.reclaimed:
            return None
        process = Process(self, instance)
        self.processes = [p for p in self.processes if p.alive] + [process]
        self.ctx.scheduler.after(self.ctx.wall(delay), process.start)
        return process

    def alive(self) -> list[Process]:
        return [p for p in self.processes if p.alive]

    async def restart(self) -> None:
        """A mass restart (the reconnect storm): SIGTERM, shutdown heartbeat, start again at once."""
        running = self.alive()
        for process in running:
            await process.stop()
        for process in running:
            self.start_process(process.instance)
        self.ctx.recorder.event("storm_restarts")

    async def reclaim(self, instance_id: str) -> None:
        """The cloud stops the instance: its process gets SIGTERM (shutdown heartbeat) and is gone. If no process
        is left, the agent comes back on the newest standby it launched (promoted, or adopted when it registers).
        """
        self.reclaimed.add(instance_id)
        self.ctx.recorder.event("instances_reclaimed")
        for process in self.alive():
            if process.instance.instance_id == instance_id:
                await process.stop()
        if self.alive():
            return
        standbys = [s for s in self.standbys.values() if s.instance_id not in self.reclaimed]
        if standbys:
            self.start_process(standbys[-1])
            self.ctx.say(f"{self.logical_id}: agent starts on standby {standbys[-1].instance_id} after the reclaim")
        else:
            self.ctx.recorder.event("agents_without_process")
            self.ctx.say(f"{self.logical_id}: instance {instance_id} reclaimed, no instance left to run on")


class Process:
    def __init__(self, agent: SimAgent, instance: InstanceFacts) -> None:
        self.agent = agent
        self.ctx = agent.ctx
        self.instance = instance
        self.alive = True
        self.agent_id: str | None = None
        self.enabled = True
        self.notice_handled = False
        self.rebalance_handled = False

    def stopped(self) -> bool:
        return not self.alive

    @property
    def base(self) -> str:
        return f"/api/agents/{self.agent_id}"  # "None" before registration, as agent v4 sends it (W14)

    async def call(self, route: str, method: str, path: str, body: object = None) -> Answer:
        return await self.ctx.wire.call(route, method, path, self.agent.token, body)

    async def start(self) -> None:
        if not self.alive:
            return
        body = register_body(self.agent.token, self.agent.logical_id, self.instance)
        answer = await self.call("A1 register", "POST", "/api/agents/register", body)
        result = registered(answer.body) if answer.ok else None
        if self.stopped():
            return  # SIGTERM while registering
        if result is None:
            self.ctx.recorder.event("registration_failed")
            await self.stop()
            self.ctx.recorder.event("process_restarts")
            self.agent.start_process(self.instance, delay=self.ctx.cadence.restart)
            return
        self.agent_id, self.enabled = result
        if self.agent.agent_id is None:
            self.ctx.recorder.event("agents_registered")  # distinct agents that got an agent_id at least once
        self.agent.agent_id = self.agent_id
        self.ctx.recorder.event("registered")
        self.ctx.say(
            f"{self.agent.logical_id}: registered as {self.agent_id} on {self.instance.instance_id} "
            f"({self.instance.pool_id or self.instance.instance_type + ' on-demand'})"
        )
        self.ctx.acks.write(
            "register", agent_id=self.agent_id, client_id=self.agent.client_id, instance_id=self.instance.instance_id
        )
        cadence = self.ctx.cadence
        self._every(cadence.heartbeat, self.heartbeat)
        self._every(cadence.pending_commands, self.poll_commands)
        self._every(cadence.replica_polling, self.poll_replicas)
        self._every(cadence.config, self.refresh_config)
        self._every(cadence.pricing, self.report_pricing)
        if self.instance.mode == "spot":
            self._every(cadence.termination_check, self.check_termination)
            self._every(cadence.rebalance_check, self.check_rebalance)
        self._every(cadence.cleanup, self.report_cleanup, first=cadence.cleanup_first)

    def _every(self, interval: float, work: Callable[[], Awaitable[None]], first: float = 0.0) -> None:
        async def iteration() -> None:
            if not self.alive:
                return
            await work()
            if self.alive:
                self.ctx.scheduler.after(self.ctx.wall(interval), iteration)

        self.ctx.scheduler.after(self.ctx.wall(first), iteration)

    async def stop(self, *, shutdown: bool = True) -> None:
        """SIGTERM or the end of a flow: one offline heartbeat (§2 shutdown), then the process is gone."""
        if not self.alive:
            return
        self.alive = False
        if shutdown:
            await self.call("A2 heartbeat (shutdown)", "POST", f"{self.base}/heartbeat", dict(SHUTDOWN))

    async def heartbeat(self) -> None:
        sent_at = datetime.now(UTC)
        body = heartbeat_body(self.instance, enabled=self.enabled)
        if (await self.call("A2 heartbeat", "POST", f"{self.base}/heartbeat", body)).ok:
            self.ctx.acks.write(
                "heartbeat", agent_id=self.agent_id, instance_id=self.instance.instance_id, sent_at=sent_at.isoformat()
            )

    async def poll_commands(self) -> None:
        if not self.enabled:
            return  # §3.3: command polling stops while the agent is disabled
        answer = await self.call("A4 pending-commands", "GET", f"{self.base}/pending-commands")
        command = first_command(answer.body) if answer.ok else None
        if command is not None:
            await flows.execute(self, command)

    async def poll_replicas(self) -> None:
        answer = await self.call("R2 replicas?status=launching", "GET", f"{self.base}/replicas?status=launching")
        for request in launch_requests(answer.body) if answer.ok else []:
            await flows.launch_replica(self, request)

    async def refresh_config(self) -> None:
        answer = await self.call("A3 config", "GET", f"{self.base}/config")
        if answer.ok and isinstance(answer.body, dict) and isinstance(answer.body.get("enabled"), bool):
            self.enabled = answer.body["enabled"]

    async def report_pricing(self) -> None:
        market, instance = self.ctx.market, self.instance
        offering = market.offering(instance.instance_type, instance.region)
        body = pricing_report_body(
            instance,
            on_demand_price=offering.on_demand,
            spot_pools=market.spot_pools(instance.instance_type, instance.region, self.ctx.sim_now()),
            collected_at=datetime.now(UTC),
        )
        answer = await self.call("A6 pricing-report", "POST", f"{self.base}/pricing-report", body)
        if answer.ok and isinstance(answer.body, dict):
            pools = answer.body.get("pools_accepted", 0), answer.body.get("pools_rejected", 0)
            self.ctx.acks.write(
                "pricing_report", agent_id=self.agent_id, report_id=answer.body.get("report_id"), pools=sum(pools)
            )

    async def check_termination(self) -> None:
        if self.notice_handled:
            return
        interruption = self.ctx.market.notice_due(self.instance.instance_id, self.ctx.now())
        if interruption is not None:
            self.notice_handled = True  # R8 then R9 once per process (§2)
            await flows.handle_termination(self, interruption)

    async def check_rebalance(self) -> None:
        if self.rebalance_handled or not self.ctx.market.rebalance_due(self.instance.instance_id, self.ctx.now()):
            return
        self.rebalance_handled = True  # once per episode
        await flows.handle_rebalance(self)

    async def report_cleanup(self) -> None:
        await self.call("A9 cleanup-report", "POST", f"{self.base}/cleanup-report", cleanup_body(datetime.now(UTC)))
