"""The longer agent v4 flows: executing a command, launching a replica, reacting to an interruption.

Each runs inside the worker that started it, as in agent v4 (the PendingCommands worker is busy while it
executes a switch; the ReplicaPolling worker launches its items one after another).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from spotopt.entrypoints.simulator.answers import DeliveredCommand, LaunchRequest, succeeded
from spotopt.entrypoints.simulator.context import FleetContext
from spotopt.entrypoints.simulator.market import Interruption
from spotopt.entrypoints.simulator.protocol import (
    InstanceFacts,
    SwitchTiming,
    ack_body,
    attach_body,
    az_of,
    rebalance_recommendation_body,
    rebalance_signal_body,
    replica_failed_body,
    replica_ready_body,
    replica_register_body,
    replica_syncing_body,
    switch_report_body,
    termination_imminent_body,
    termination_signal_body,
)
from spotopt.entrypoints.simulator.transport import Answer


class Host(Protocol):
    """The logical agent a process runs for."""

    logical_id: str
    standbys: dict[str, InstanceFacts]

    def start_process(self, instance: InstanceFacts, delay: float = 0.0) -> object: ...


class Runner(Protocol):
    """One agent v4 process, as the flows use it."""

    @property
    def ctx(self) -> FleetContext: ...
    @property
    def agent(self) -> Host: ...
    @property
    def instance(self) -> InstanceFacts: ...
    @property
    def agent_id(self) -> str | None: ...
    @property
    def alive(self) -> bool: ...
    @property
    def base(self) -> str: ...

    async def call(self, route: str, method: str, path: str, body: object = None) -> Answer: ...

    async def stop(self, *, shutdown: bool = True) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


async def execute(process: Runner, command: DeliveredCommand) -> None:
    process.ctx.recorder.event("commands_executed")
    if command.command_type == "create_replica":
        await create_replica(process, command)
    else:
        await switch(process, command)


async def acknowledge(process: Runner, command: DeliveredCommand, *, success: bool, message: str) -> None:
    """§3.5: sent after every executed command, failures included."""
    path = f"{process.base}/commands/{command.id}/executed"
    answer = await process.call("A5 ack", "POST", path, ack_body(success=success, message=message))
    if answer.ok and isinstance(answer.body, dict):
        process.ctx.recorder.event("acks")
        process.ctx.acks.write(
            "ack", agent_id=process.agent_id, command_id=command.id, status=answer.body.get("status")
        )


def _launched(process: Runner, *, az: str, mode: str) -> InstanceFacts:
    ctx = process.ctx
    return process.instance.moved(ctx.new_instance_id(), az=az, mode=mode, private_ip=ctx.new_private_ip())


async def switch(process: Runner, command: DeliveredCommand) -> None:
    """Launch the target, wait until it is ready, switch traffic, optionally terminate the old instance after
    ``terminate_wait_seconds``, then the switch report (§3.7) and the ack (§3.5). The new instance boots and its
    agent registers meanwhile (R-5). After terminating the old instance the agent stops; with a wait of 0 it keeps
    running on the old instance (until the cloud reclaims it).
    """
    ctx, old = process.ctx, process.instance
    initiated = _now()
    await ctx.sleep(ctx.cadence.launch)
    if not process.alive:
        return
    if ctx.rng.random() < ctx.launch_failure_rate:
        ctx.recorder.event("switch_failed")
        await acknowledge(process, command, success=False, message="Switch failed")
        return
    az = az_of(command.target_pool_id) if command.target_mode == "spot" and command.target_pool_id else old.az
    new = _launched(process, az=az, mode=command.target_mode)
    launched = _now()
    process.agent.start_process(new, delay=ctx.cadence.boot)
    ctx.say(f"{process.agent.logical_id}: switch {old.instance_id} → {new.instance_id} ({new.pool_id or 'on-demand'})")
    await ctx.sleep(ctx.cadence.boot)
    ready = _now()
    await ctx.sleep(ctx.cadence.traffic)
    switched = _now()
    terminated = None
    if command.terminate_wait_seconds > 0:
        await ctx.sleep(command.terminate_wait_seconds)
        terminated = _now()
    prices = _prices(ctx, old, new)
    timing = SwitchTiming(initiated, launched, ready, switched, terminated)
    body = switch_report_body(old, new, prices=prices, timing=timing, priority=command.priority)
    report = await process.call("A7 switch-report", "POST", f"{process.base}/switch-report", body)
    if report.ok and isinstance(report.body, dict):
        ctx.recorder.event("switches_reported")
        ctx.acks.write(
            "switch", agent_id=process.agent_id, switch_id=report.body.get("switch_id"), new_instance_id=new.instance_id
        )
    await acknowledge(process, command, success=True, message="Switch completed")
    if terminated is not None:
        await process.stop()


def _prices(ctx: FleetContext, old: InstanceFacts, new: InstanceFacts) -> dict[str, float | None]:
    market, t = ctx.market, ctx.sim_now()
    on_demand = market.offering(old.instance_type, old.region).on_demand
    old_spot = market.spot_price(old.instance_type, old.az, t) if old.mode == "spot" else None
    new_spot = market.spot_price(new.instance_type, new.az, t) if new.mode == "spot" else None
    return {"on_demand": on_demand, "old_spot": old_spot, "new_spot": new_spot}


async def create_replica(process: Runner, command: DeliveredCommand) -> None:
    """§3.8: launch a spot instance in the AZ of ``target_pool_id``, register it (R1), ``syncing``, ``ready``, ack."""
    ctx = process.ctx
    if command.target_pool_id is None:
        await acknowledge(process, command, success=False, message="Replica creation failed")
        return
    await ctx.sleep(ctx.cadence.launch)
    standby = _launched(process, az=az_of(command.target_pool_id), mode="spot")
    body = replica_register_body(
        standby.instance_id, parent_instance_id=process.instance.instance_id, pool_id=command.target_pool_id
    )
    created = await process.call("R1 replica-register", "POST", f"{process.base}/replicas", body)
    replica_id = created.body.get("replica_id") if created.ok and isinstance(created.body, dict) else None
    if not isinstance(replica_id, str):
        await acknowledge(process, command, success=False, message="Replica creation failed")
        return
    process.agent.standbys[standby.instance_id] = standby
    path = f"{process.base}/replicas/{replica_id}/status"
    await process.call("R6 replica-status", "POST", path, replica_syncing_body(_now()))
    await ctx.sleep(ctx.cadence.boot)
    await process.call("R6 replica-status", "POST", path, replica_ready_body(_now()))
    await acknowledge(process, command, success=True, message=f"Replica created: {replica_id}")


async def launch_replica(process: Runner, request: LaunchRequest) -> None:
    """§3.10/§3.11: launch one spot instance in ``az``, attach it (R5), wait until running, report ``ready``."""
    ctx = process.ctx
    await ctx.sleep(ctx.cadence.launch)
    if ctx.rng.random() < ctx.launch_failure_rate:
        path = f"{process.base}/replicas/{request.id}/status"
        await process.call("R6 replica-status", "POST", path, replica_failed_body("InsufficientInstanceCapacity"))
        return
    standby = _launched(process, az=request.az, mode="spot")
    attach = await process.call(
        "R5 replica-attach", "PUT", f"{process.base}/replicas/{request.id}", attach_body(standby.instance_id)
    )
    if not attach.ok:
        return
    ctx.recorder.event("replicas_launched")
    ctx.acks.write(
        "replica_attached", agent_id=process.agent_id, replica_id=request.id, instance_id=standby.instance_id
    )
    process.agent.standbys[standby.instance_id] = standby
    ctx.say(f"{process.agent.logical_id}: launched replica {standby.instance_id} in {request.pool_id}")
    await ctx.sleep(ctx.cadence.boot)
    path = f"{process.base}/replicas/{request.id}/status"
    if (await process.call("R6 replica-status", "POST", path, replica_ready_body(_now()))).ok:
        ctx.recorder.event("replicas_ready")
        ctx.acks.write("replica_ready", agent_id=process.agent_id, replica_id=request.id)


async def handle_rebalance(process: Runner) -> None:
    """§3.12 rebalance form, then §3.13."""
    ctx, instance_id = process.ctx, process.instance.instance_id
    ctx.recorder.event("rebalances_sent")
    ctx.say(f"{process.agent.logical_id}: rebalance recommendation on {instance_id}")
    await process.call(
        "R8 emergency-replica", "POST", f"{process.base}/create-emergency-replica", rebalance_signal_body(instance_id)
    )
    body = rebalance_recommendation_body(instance_id, _now())
    await process.call("A10 rebalance-recommendation", "POST", f"{process.base}/rebalance-recommendation", body)


async def handle_termination(process: Runner, interruption: Interruption) -> None:
    """§3.12 termination form, then §3.14. ``success: true`` → the agent stops and the promoted instance takes
    over; anything else → "Failover failed": it keeps running until the reclaim (to execute a fallback).
    """
    ctx, instance_id = process.ctx, process.instance.instance_id
    deadline = ctx.utc_at(interruption.reclaim_at)
    ctx.recorder.event("notices_sent")
    await process.call(
        "R8 emergency-replica",
        "POST",
        f"{process.base}/create-emergency-replica",
        termination_signal_body(instance_id, deadline),
    )
    body = termination_imminent_body(instance_id, deadline, _now())
    answer = await process.call("R9 termination-imminent", "POST", f"{process.base}/termination-imminent", body)
    result = answer.body if isinstance(answer.body, dict) else {}
    new_instance_id = result.get("new_instance_id")
    if answer.ok and succeeded(result) and isinstance(new_instance_id, str):
        failover_ms = result.get("failover_ms")
        ctx.recorder.failover(float(failover_ms) if isinstance(failover_ms, int | float) else None)
        ctx.acks.write(
            "failover", agent_id=process.agent_id, replica_id=result.get("replica_id"), new_instance_id=new_instance_id
        )
        ctx.say(f"{process.agent.logical_id}: failover {instance_id} → {new_instance_id} ({failover_ms} ms)")
        await process.stop()
        standby = process.agent.standbys.get(new_instance_id) or process.instance.moved(
            new_instance_id, az=process.instance.az, mode="spot", private_ip=ctx.new_private_ip()
        )
        process.agent.start_process(standby)
        return
    detail = result.get("detail") if isinstance(result.get("detail"), dict) else {}
    action = result.get("action") or (detail or {}).get("action") or (detail or {}).get("code")
    known = {"failover_scheduled", "ondemand_fallback_queued", "no_action_possible"}
    ctx.recorder.event(action if action in known else "failover_failed_other")
    ctx.say(f"{process.agent.logical_id}: termination notice on {instance_id} → {answer.status} {action}")
