"""Agent v4 replay steps around a switch: queued (as the evaluator does), polled, reported, the new process
registering, acknowledged; and a failed switch (W16–W25)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.values import InstanceRole, TerminationReason
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch_planning import make_switch_command, plan_switch
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.shared.ids import AgentId, ClientId
from spotopt.domain.shared.pools import Mode
from tests.agent_v4.agent import (
    NEW,
    NEW_POOL,
    OLD,
    WIRE_TIME,
    AgentProcess,
    concurrently,
    heartbeat_body,
    in_app,
    ok,
    register_body,
    send,
    switch_report_body,
)


async def queue_switches(agent: AgentProcess) -> str:
    """No public route queues a switch yet: the evaluator's path, through the container (K1, CM-2 supersede)."""
    now = datetime.now(UTC)

    async def queue(uow: UnitOfWork) -> list[AgentCommand]:
        found = await uow.agents.get(ClientId(agent.client_id), agent.agent_id)
        assert found is not None
        queued: list[AgentCommand] = []
        for motive in ("savings", "risk"):
            command = make_switch_command(
                found,
                origin=CommandOrigin.AUTOMATIC,
                motive=motive,
                target_mode=Mode.SPOT,
                target_pool_id=NEW_POOL,
                now=now,
            )
            plan_switch(queued, command, current_mode=found.mode, current_pool_id=found.pool_id)
            await uow.commands.add(command)
            queued.append(command)
        await uow.commit()
        return queued

    savings, risk = in_app(agent.client, queue)
    assert savings.status is CommandStatus.SUPERSEDED
    return risk.command_id


async def poll_switch(agent: AgentProcess, command_id: str) -> None:
    """W16–W18: one item, every field at top level, the head of the queue; leased, so the next poll is empty."""
    path = f"/api/agents/{agent.agent_id}/pending-commands"
    body = ok(await send(agent.client, "GET", path, agent.headers))
    assert body["success"] is True
    [item] = body["commands"]
    assert item["id"] == command_id
    assert item["command_type"] == "switch"
    assert (item["target_mode"], item["target_pool_id"]) == ("spot", NEW_POOL)
    assert item["terminate_wait_seconds"] == 300
    assert item["priority"] == 50
    assert item["instance_id"] == OLD
    assert WIRE_TIME.match(item["created_at"])
    assert ok(await send(agent.client, "GET", path, agent.headers)) == {"success": True, "commands": []}
    command = in_app(agent.client, lambda uow: uow.commands.get(AgentId(agent.agent_id), command_id))
    assert command is not None
    assert command.delivered_at is not None
    assert command.lease_expires_at is not None
    assert command.lease_expires_at - command.delivered_at == timedelta(seconds=120 + 300 + 300 + 300)


async def switch_report(agent: AgentProcess, command_id: str) -> None:
    """W23–W25 (S-1 – S-4), sent while a heartbeat of the same process is in flight (W07)."""
    command = in_app(agent.client, lambda uow: uow.commands.get(AgentId(agent.agent_id), command_id))
    assert command is not None
    assert command.delivered_at is not None
    body = switch_report_body(command.delivered_at)
    path = f"/api/agents/{agent.agent_id}/switch-report"
    report, beat = concurrently(
        agent.client,
        [
            ("POST", path, agent.headers, body),
            ("POST", f"/api/agents/{agent.agent_id}/heartbeat", agent.headers, heartbeat_body(OLD)),
        ],
    )
    ok(beat)
    answer = ok(report, 201)
    assert answer["success"] is True
    assert isinstance(answer["switch_id"], str)
    assert (answer["command_id"], answer["applied"]) == (command_id, True)
    assert ok(await send(agent.client, "POST", path, agent.headers, body)) == answer
    await check_switch_state(agent, command_id, body)


async def check_switch_state(agent: AgentProcess, command_id: str, body: dict[str, Any]) -> None:
    client_id, agent_id = ClientId(agent.client_id), AgentId(agent.agent_id)
    switch = in_app(agent.client, lambda uow: uow.switches.find_by_new_instance(agent_id, NEW))
    command = in_app(agent.client, lambda uow: uow.commands.get(agent_id, command_id))
    state = in_app(agent.client, lambda uow: uow.agents.get(client_id, agent_id))
    old = in_app(agent.client, lambda uow: uow.instances.get(client_id, OLD))
    new = in_app(agent.client, lambda uow: uow.instances.get(client_id, NEW))
    assert switch is not None
    assert command is not None
    assert state is not None
    assert old is not None
    assert new is not None
    assert switch.reported_prices == body["prices"]
    assert switch.new_price is None  # SW-2: no server price in effect yet; never the agent's 0.0112
    lower, upper = command.delivered_at, switch.received_at
    assert lower is not None
    timing = (
        switch.timing.initiated_at,
        switch.timing.launched_at,
        switch.timing.ready_at,
        switch.timing.traffic_switched_at,
        switch.timing.old_terminated_at,
    )
    assert all(t is not None and lower <= t <= upper for t in timing)
    assert switch.timing.initiated_at == lower
    assert switch.timing.old_terminated_at == upper
    assert command.lease_pinned
    assert command.status is CommandStatus.COMPLETED
    assert state.primary_instance_id == NEW
    assert (new.role, state.pool_id) == (InstanceRole.PRIMARY, NEW_POOL)
    assert (old.role, old.termination_reason, old.termination_confirmed) == (
        InstanceRole.TERMINATED,
        TerminationReason.SWITCHED_AWAY,
        True,
    )


async def new_process_starts(agent: AgentProcess) -> None:
    """W11/W12: the agent on the new instance registers under the same logical id → the same ``agent_id``."""
    body = register_body(agent.token, instance_id=NEW, az="us-east-1d", hostname="ip-10-0-4-17", private_ip="10.0.4.17")
    answer = ok(await send(agent.client, "POST", "/api/agents/register", agent.headers, body))
    assert answer["agent_id"] == agent.agent_id
    path = f"/api/agents/{agent.agent_id}/heartbeat"
    assert ok(await send(agent.client, "POST", path, agent.headers, heartbeat_body(NEW, "us-east-1d"))) == {
        "success": True
    }


async def ack(agent: AgentProcess, command_id: str) -> None:
    """W21: 2xx with the recorded status; a repeat is a no-op; W19: never delivered again."""
    path = f"/api/agents/{agent.agent_id}/commands/{command_id}/executed"
    expected = {"success": True, "command_id": command_id, "status": "completed"}
    done = {"success": True, "message": "Switch completed"}
    assert ok(await send(agent.client, "POST", path, agent.headers, done)) == expected
    assert ok(await send(agent.client, "POST", path, agent.headers, done)) == expected
    poll = f"/api/agents/{agent.agent_id}/pending-commands"
    assert ok(await send(agent.client, "GET", poll, agent.headers)) == {"success": True, "commands": []}


async def failed_switch(agent: AgentProcess) -> None:
    """W21: ``success: false`` marks the command ``failed``; it is not handed out again (W19)."""

    async def queue(uow: UnitOfWork) -> AgentCommand:
        found = await uow.agents.get(ClientId(agent.client_id), agent.agent_id)
        assert found is not None
        command = make_switch_command(
            found,
            origin=CommandOrigin.AUTOMATIC,
            motive="savings",
            target_mode=Mode.SPOT,
            target_pool_id="t3.medium.us-east-1b",
            now=datetime.now(UTC),
        )
        await uow.commands.add(command)
        await uow.commit()
        return command

    command = in_app(agent.client, queue)
    poll = f"/api/agents/{agent.agent_id}/pending-commands"
    [item] = ok(await send(agent.client, "GET", poll, agent.headers))["commands"]
    assert (item["id"], item["instance_id"]) == (command.command_id, NEW)
    path = f"/api/agents/{agent.agent_id}/commands/{command.command_id}/executed"
    failed = ok(await send(agent.client, "POST", path, agent.headers, {"success": False, "message": "Switch failed"}))
    assert failed == {"success": True, "command_id": command.command_id, "status": "failed"}
    assert ok(await send(agent.client, "GET", poll, agent.headers)) == {"success": True, "commands": []}
