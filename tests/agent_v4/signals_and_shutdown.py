"""Agent v4 replay steps at the end of a run: replica config, the rebalance and termination signals (R8, R9,
the on-demand fallback), cleanup, the shutdown heartbeats and a deactivated client (W03, W13, W14, W35–W39)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceRole, Liveness
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from tests.agent_v4.agent import (
    NEW,
    OTHER,
    SHUTDOWN,
    AgentProcess,
    agent_headers,
    error,
    heartbeat_body,
    in_app,
    iso,
    ok,
    register_body,
    route_wired,
    send,
)


async def replica_config(agent: AgentProcess) -> None:
    """A11 (not called by agent v4, but served): the replica flags."""
    body = ok(await send(agent.client, "GET", f"/api/agents/{agent.agent_id}/replica-config", agent.headers))
    assert body == {
        "success": True,
        "replica_enabled": False,
        "replica_count": 0,
        "manual_replica_enabled": False,
        "auto_switch_enabled": True,
        "current_replica_id": None,
    }


async def rebalance(agent: AgentProcess) -> None:
    """W35 (A10): 2xx with a string ``action`` the agent may log."""
    path = f"/api/agents/{agent.agent_id}/rebalance-recommendation"
    body = {"instance_id": NEW, "detected_at": iso(datetime.now(UTC))}
    if not route_wired(agent.client, "POST", "/api/agents/{}/rebalance-recommendation"):
        error(await send(agent.client, "POST", path, agent.headers, body), 404, "not_found")
        return
    answer = ok(await send(agent.client, "POST", path, agent.headers, body))
    assert answer["success"] is True
    assert answer["action"] in {"standby_ready", "standby_preparing", "no_alternative_pool", "none"}
    assert answer["attributed_role"] == "primary"


async def termination_notice_without_replica(agent: AgentProcess) -> None:
    """W37/W20 (R8 then R9): no replica is possible for the agent whose metadata failed (no known type or pool), so
    the notice queues the on-demand fallback, and the next poll hands it out."""
    base = f"/api/agents/{agent.batch_agent_id}"
    deadline = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    notice = {"signal_type": "termination-notice", "instance_id": OTHER, "termination_time": deadline}
    imminent = {"instance_id": OTHER, "termination_time": deadline, "detected_at": iso(datetime.now(UTC))}
    replica = await send(agent.client, "POST", f"{base}/create-emergency-replica", agent.headers, notice)
    if not route_wired(agent.client, "POST", "/api/agents/{}/termination-imminent"):
        error(replica, 404, "not_found")
        error(
            await send(agent.client, "POST", f"{base}/termination-imminent", agent.headers, imminent), 404, "not_found"
        )
        return
    refused = error(replica, 409, "no_replica")
    assert refused["detail"]["action"] == "ondemand_fallback_queued"
    pending = ok(await send(agent.client, "POST", f"{base}/termination-imminent", agent.headers, imminent), 202)
    assert (pending["success"], pending["action"]) == (False, "ondemand_fallback_queued")
    assert pending["command_id"] == refused["detail"]["command_id"]
    [fallback] = ok(await send(agent.client, "GET", f"{base}/pending-commands", agent.headers))["commands"]
    assert fallback["id"] == pending["command_id"]
    assert (fallback["command_type"], fallback["target_mode"], fallback["target_pool_id"]) == (
        "switch",
        "ondemand",
        None,
    )
    assert (fallback["priority"], fallback["terminate_wait_seconds"], fallback["instance_id"]) == (100, 0, OTHER)


async def cleanup(agent: AgentProcess) -> None:
    """W39: the agent's cleanup-result form, with an error-only section, → 2xx and the counts of A9."""
    now = datetime.now(UTC)
    body = {
        "timestamp": iso(now),
        "snapshots": {
            "type": "snapshots",
            "deleted": ["snap-0a12b34c56d78e90f"],
            "failed": [],
            "cutoff_date": iso(now - timedelta(days=7)),
        },
        "amis": {
            "type": "amis",
            "deleted_amis": [],
            "deleted_snapshots": [],
            "failed": [],
            "error": "can't compare offset-naive and offset-aware datetimes",
        },
    }
    answer = ok(await send(agent.client, "POST", f"/api/agents/{agent.agent_id}/cleanup-report", agent.headers, body))
    assert answer == {
        "success": True,
        "message": "Cleanup report recorded",
        "deleted_snapshots": 1,
        "deleted_amis": 0,
        "failed_count": 1,
        "old_instance_result": None,
    }


async def shutdown(agent: AgentProcess) -> None:
    """W13/H-5: the old primary's process stops after the switch: 2xx, and the agent stays online."""
    path = f"/api/agents/{agent.agent_id}/heartbeat"
    assert ok(await send(agent.client, "POST", path, agent.headers, SHUTDOWN)) == {"success": True}

    async def read(uow: UnitOfWork) -> tuple[Agent | None, Sequence[Instance], dict[InstanceId, LedgerEntry | None]]:
        state = await uow.agents.get(ClientId(agent.client_id), agent.agent_id)
        instances = await uow.instances.list_for_agent(AgentId(agent.agent_id))
        entries = {i.instance_id: await uow.ledger.open_entry(i.client_id, i.instance_id) for i in instances}
        return state, instances, entries

    state, instances, open_entries = in_app(agent.client, read)
    assert state is not None
    assert state.liveness is Liveness.ONLINE
    assert [i.instance_id for i in instances if i.role is InstanceRole.PRIMARY] == [InstanceId(NEW)]
    for instance in instances:  # IN-8
        assert (open_entries[instance.instance_id] is None) is instance.is_terminated


async def registration_failure_shutdown(agent: AgentProcess) -> None:
    """W14: ``/api/agents/None/heartbeat`` → JSON 404 with a valid token, JSON 401 with a bad one."""
    path = "/api/agents/None/heartbeat"
    answer = await send(agent.client, "POST", path, agent.headers, SHUTDOWN)
    assert error(answer, 404, "not_found") == {
        "error": "Agent not found",
        "status_code": 404,
        "detail": {"code": "not_found"},
    }
    error(await send(agent.client, "POST", path, agent_headers("spo_" + "y" * 43), SHUTDOWN), 401, "invalid_token")


async def deactivated_client(agent: AgentProcess) -> None:
    """W03/CL-2: a deactivated client's token → 403 JSON ``client_inactive`` on every agent route."""

    async def deactivate(uow: UnitOfWork) -> None:
        owner = await uow.clients.get(ClientId(agent.client_id))
        assert owner is not None
        owner.deactivate(datetime.now(UTC))
        await uow.commit()

    in_app(agent.client, deactivate)
    base = f"/api/agents/{agent.agent_id}"
    error(await send(agent.client, "GET", f"{base}/config", agent.headers), 403, "client_inactive")
    error(
        await send(agent.client, "POST", f"{base}/heartbeat", agent.headers, heartbeat_body(NEW)),
        403,
        "client_inactive",
    )
    error(
        await send(agent.client, "POST", "/api/agents/register", agent.headers, register_body(agent.token)),
        403,
        "client_inactive",
    )
