"""Protocol replay of agent v4.0.0, replica part (agent-v4-wire.md §3.8 – §3.14, W16, W21, W26 – W38).

``replay_agent_v4_replicas`` drives a running app as one field agent of a fresh client does around replicas:
a ``create_replica`` command → the agent-launched replica registered (R1 register form) → ``syncing`` → ``ready``
(R6) → ack; a server-offered launch request polled from the launching list (R2) → attached (R5) → ``ready``; a
rebalance → emergency replica (R8 then A10) launched through the same list; the termination notice → failover
(R8 promotes, R9 answers ``success: true`` with ``new_instance_id``, repeats answer the same). Replica modes have no
route yet: they are switched through the app's container, as a settings use case will.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.values import InstanceRole, KeptReason
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch_planning import make_switch_command
from spotopt.domain.commands.values import CommandOrigin, CommandType
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.pools import Mode
from tests.agent_v4.agent import (
    OLD,
    AgentProcess,
    Client,
    in_app,
    iso,
    ok,
    pricing_body,
    register_body,
    send,
)
from tests.agent_v4.registration import new_client

REGISTERED = "i-03e4f5a6b7c8d9e0f"  # launched by the agent after a create_replica command (§3.8)
LAUNCHED = "i-07c1d2e3f4a5b6c7d"  # launched by the replica poller for a launch request (§3.10)
EMERGENCY = "i-0e1f2a3b4c5d6e7f8"  # launched by the replica poller for the rebalance's emergency replica
POOL_C = "t3.medium.us-east-1c"
POOL_D = "t3.medium.us-east-1d"


async def replay_agent_v4_replicas(client: Client, admin_headers: Mapping[str, str]) -> None:
    """The replica calls of agent v4.0.0 in its order, for one agent of a new client."""
    agent = await new_client(client, admin_headers)
    registered = ok(await send(client, "POST", "/api/agents/register", agent.headers, register_body(agent.token)), 201)
    agent.agent_id = registered["agent_id"]
    report = pricing_body(datetime.now(UTC))
    ok(await send(client, "POST", f"/api/agents/{agent.agent_id}/pricing-report", agent.headers, report))
    set_mode(agent, manual=True)
    first = await _create_replica_command(agent)
    await retire(agent, first)
    second = await _launching_list(agent)
    await retire(agent, second)
    set_mode(agent, manual=False)
    emergency = await _rebalance(agent)
    await _termination_notice(agent, emergency)


def set_mode(agent: AgentProcess, *, manual: bool) -> None:
    """Manual-replica mode on or off (AG-5: auto-switch is its opposite here)."""

    async def flip(uow: UnitOfWork) -> None:
        found = await uow.agents.get(ClientId(agent.client_id), agent.agent_id)
        assert found is not None
        found.auto_switch_enabled, found.manual_replica_enabled = not manual, manual
        await uow.commit()

    in_app(agent.client, flip)


async def call(agent: AgentProcess, method: str, route: str, body: object = None) -> Any:
    return await send(agent.client, method, f"/api/agents/{agent.agent_id}/{route}", agent.headers, body)


async def retire(agent: AgentProcess, replica_id: str) -> None:
    """R4 (not an agent v4 call): the client retires the standby so the next scenario starts without one."""
    answer = ok(await call(agent, "DELETE", f"replicas/{replica_id}"))
    assert (answer["message"], answer["replica_id"], answer["instance_role"]) == (
        "Replica retired",
        replica_id,
        "kept_old",
    )


async def _create_replica_command(agent: AgentProcess) -> str:
    """W16/§3.8: a ``create_replica`` command (spotopt issues none itself, so it is queued through the container),
    the agent's R1 register form (W26: 201 ``syncing``, a repeat 200 with the same id), R6 ``syncing`` and
    ``ready`` (W27, L16), the ack (W21)."""

    async def queue(uow: UnitOfWork) -> AgentCommand:
        found = await uow.agents.get(ClientId(agent.client_id), agent.agent_id)
        assert found is not None
        switch = make_switch_command(
            found, origin=CommandOrigin.MANUAL, target_mode=Mode.SPOT, target_pool_id=POOL_C, now=datetime.now(UTC)
        )
        command = dataclasses.replace(switch, type=CommandType.CREATE_REPLICA)
        await uow.commands.add(command)
        await uow.commit()
        return command

    command = in_app(agent.client, queue)
    [item] = ok(await call(agent, "GET", "pending-commands"))["commands"]
    assert (item["id"], item["command_type"], item["target_pool_id"]) == (
        command.command_id,
        "create_replica",
        POOL_C,
    )
    body = {
        "instance_id": REGISTERED,
        "replica_type": "manual",
        "parent_instance_id": OLD,
        "pool_id": POOL_C,
        "status": "launching",
    }
    created = ok(await call(agent, "POST", "replicas", body), 201)
    replica_id = created["replica_id"]
    assert (created["success"], created["created"], created["id"]) == (True, True, replica_id)
    assert (created["status"], created["kind"], created["created_by"]) == ("syncing", "manual", "agent")
    assert (created["instance_id"], created["pool_id"], created["az"]) == (REGISTERED, POOL_C, "us-east-1c")
    again = ok(await call(agent, "POST", "replicas", body))
    assert (again["created"], again["replica_id"]) == (False, replica_id)
    await _report(agent, replica_id, {"status": "syncing", "sync_started_at": iso(datetime.now(UTC))}, "syncing")
    await _report(agent, replica_id, {"status": "ready", "sync_completed_at": iso(datetime.now(UTC))}, "syncing")
    await _report(agent, replica_id, {"status": "ready", "sync_completed_at": iso(datetime.now(UTC))}, "ready")
    done = {"success": True, "message": f"Replica created: {replica_id}"}
    acked = ok(await call(agent, "POST", f"commands/{command.command_id}/executed", done))
    assert acked == {"success": True, "command_id": command.command_id, "status": "completed"}
    config = ok(await call(agent, "GET", "replica-config"))
    assert (config["replica_enabled"], config["replica_count"], config["current_replica_id"]) == (
        True,
        1,
        replica_id,
    )
    return str(replica_id)


async def _report(agent: AgentProcess, replica_id: str, body: dict[str, object], previous: str) -> None:
    """W27: every agent body → 200; a status already reached is a no-op (L16)."""
    answer = ok(await call(agent, "POST", f"replicas/{replica_id}/status", body))
    assert answer == {"success": True, "replica_id": replica_id, "status": body["status"], "previous_status": previous}


async def _launching_list(agent: AgentProcess) -> str:
    """W28 – W31: a launch request (here the client's R1 request form) is listed once to the replica poller with
    top-level ``id``/``pool_id``/``az`` and no instance id, claimed (not listed again), attached (R5, a repeat is a
    no-op) and never listed again; then R6 ``ready``."""
    requested = ok(await call(agent, "POST", "replicas", {"pool_id": POOL_D}), 201)
    replica_id = requested["replica_id"]
    assert (requested["status"], requested["instance_id"], requested["created_by"]) == ("launching", None, "client")
    await _launch(agent, replica_id, LAUNCHED, POOL_D)
    await _report(agent, replica_id, {"status": "ready", "sync_completed_at": iso(datetime.now(UTC))}, "syncing")
    return str(replica_id)


async def _launch(agent: AgentProcess, replica_id: str, instance_id: str, pool_id: str) -> None:
    """The replica poller (§3.10, §3.11): list, launch in the item's AZ, attach."""
    [item] = ok(await call(agent, "GET", "replicas?status=launching"))["replicas"]
    assert (item["id"], item["pool_id"], item["az"]) == (replica_id, pool_id, pool_id.rpartition(".")[2])
    assert (item["instance_id"], item["launch_claims"]) == (None, 1)
    assert ok(await call(agent, "GET", "replicas?status=launching")) == {"success": True, "replicas": [], "total": 0}
    attach = {"instance_id": instance_id, "status": "syncing"}
    expected = {"success": True, "replica_id": replica_id, "instance_id": instance_id, "status": "syncing"}
    assert ok(await call(agent, "PUT", f"replicas/{replica_id}", attach)) == expected
    assert ok(await call(agent, "PUT", f"replicas/{replica_id}", attach)) == expected
    assert ok(await call(agent, "GET", "replicas?status=launching"))["replicas"] == []


async def _rebalance(agent: AgentProcess) -> str:
    """W32 – W35 in auto-switch mode: R8 creates the emergency launch request (201), A10 answers the episode's
    state, a repeated R8 returns the same replica (RP-6); the poller launches it; A10 then says ``standby_ready``."""
    signal = {"signal_type": "rebalance-recommendation", "instance_id": OLD}
    created = ok(await call(agent, "POST", "create-emergency-replica", signal), 201)
    replica_id, episode_id = created["replica_id"], created["episode_id"]
    assert (created["success"], created["created"], created["replica_instance_id"], created["instance_id"]) == (
        True,
        True,
        None,
        None,
    )
    assert (created["kind"], created["status"], created["urgency"]) == ("automatic-rebalance", "launching", "high")
    assert (created["episode_state"], created["action"]) == ("at_risk", "standby_preparing")
    pool_id = created["pool_id"]
    assert pool_id != "t3.medium.us-east-1a"  # RP-1: never the primary's pool
    recommendation = {"instance_id": OLD, "detected_at": iso(datetime.now(UTC))}
    a10 = ok(await call(agent, "POST", "rebalance-recommendation", recommendation))
    assert (a10["action"], a10["replica_id"], a10["episode_id"], a10["attributed_role"]) == (
        "standby_preparing",
        replica_id,
        episode_id,
        "primary",
    )
    again = ok(await call(agent, "POST", "create-emergency-replica", signal))
    assert (again["created"], again["replica_id"], again["episode_id"]) == (False, replica_id, episode_id)
    await _launch(agent, replica_id, EMERGENCY, pool_id)
    await _report(agent, replica_id, {"status": "ready", "sync_completed_at": iso(datetime.now(UTC))}, "syncing")
    ready = ok(await call(agent, "POST", "rebalance-recommendation", recommendation))
    assert (ready["action"], ready["replica_status"]) == ("standby_ready", "ready")
    return str(replica_id)


async def _termination_notice(agent: AgentProcess, replica_id: str) -> None:
    """W33: the notice (R8) promotes the ready replica of the episode in that call; W36: R9 right after answers the
    replay, 200 ``success: true`` with ``new_instance_id``; W38: a repeat answers the same and promotes nothing."""
    deadline = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    notice = {"signal_type": "termination-notice", "instance_id": OLD, "termination_time": deadline}
    promoted = ok(await call(agent, "POST", "create-emergency-replica", notice))
    assert (promoted["success"], promoted["created"], promoted["replica_id"]) == (True, False, replica_id)
    assert (promoted["status"], promoted["replica_instance_id"], promoted["urgency"]) == (
        "promoted",
        EMERGENCY,
        "critical",
    )
    assert (promoted["episode_state"], promoted["action"]) == ("failed_over", "replica_promoted")
    imminent = {"instance_id": OLD, "termination_time": deadline, "detected_at": iso(datetime.now(UTC))}
    answer = ok(await call(agent, "POST", "termination-imminent", imminent))
    assert (answer["success"], answer["action"], answer["message"]) == (
        True,
        "replica_promoted",
        "Automatic failover completed",
    )
    assert (answer["new_instance_id"], answer["old_instance_id"], answer["replica_id"]) == (EMERGENCY, OLD, replica_id)
    assert (answer["episode_id"], answer["deadline"], answer["degraded"]) == (promoted["episode_id"], deadline, False)
    assert ok(await call(agent, "POST", "termination-imminent", imminent)) == answer
    await _check_failover(agent, replica_id)


async def _check_failover(agent: AgentProcess, replica_id: str) -> None:
    """W36: the replica's instance is the agent's primary; the interrupted one awaits its termination; one
    promotion."""
    listed = ok(await call(agent, "GET", "replicas?include_terminated=true"))["replicas"]
    assert [r["id"] for r in listed if r["status"] == "promoted"] == [replica_id]

    async def read(uow: UnitOfWork) -> tuple[str | None, InstanceRole, KeptReason | None]:
        found = await uow.agents.get(ClientId(agent.client_id), agent.agent_id)
        old = await uow.instances.get(ClientId(agent.client_id), OLD)
        assert found is not None
        assert old is not None
        return found.primary_instance_id, old.role, old.kept_reason

    assert in_app(agent.client, read) == (EMERGENCY, InstanceRole.KEPT_OLD, KeptReason.AWAITING_TERMINATION)
