"""Protocol replay of agent v4.0.0 (agent-v4-wire.md W01–W39): the agent's calls, in its order, with its bodies.

``replay_agent_v4`` drives a running app the way one field agent does: register (twice, then after a metadata
failure), heartbeats, config, pricing report, command polling, a switch with its report and ack, a failed switch,
replica config, a rebalance signal, a termination notice without a possible replica (R8, R9, the on-demand
fallback), cleanup, the shutdown heartbeat and the post-failure ``None`` heartbeat. It asserts every response field
the agent reads. Switch commands are queued through the app's container, as the evaluator does. Routes still being
wired (A6, A10, R8/R9) must answer with a JSON 404 until they exist; from then on their full contract is asserted.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from dishka import AsyncContainer
from litestar import Litestar
from litestar.testing import AsyncTestClient

from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceRole, Liveness, TerminationReason
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch_planning import make_switch_command, plan_switch
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from spotopt.domain.shared.pools import Mode

Client = AsyncTestClient[Litestar]
T = TypeVar("T")
OLD = "i-0a1b2c3d4e5f67890"
NEW = "i-0f9e8d7c6b5a43210"
OTHER = "i-0123456789abcdef0"
OLD_POOL = "t3.medium.us-east-1a"
NEW_POOL = "t3.medium.us-east-1d"
CONFIG_KEYS = {
    "enabled",
    "auto_switch_enabled",
    "manual_replica_enabled",
    "auto_terminate_enabled",
    "terminate_wait_seconds",
    "replica_enabled",
    "replica_count",
    "min_savings_percent",
    "risk_threshold",
    "max_switches_per_day",
    "max_switches_per_week",
    "min_pool_duration_hours",
    "cooldown_minutes",
}
WIRE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SHUTDOWN = {"status": "offline", "monitored_instances": []}


@dataclass
class AgentProcess:
    """What one agent process knows: the HTTP client, its headers (W02) and its ids."""

    client: Client
    token: str
    client_id: str
    agent_id: str = ""
    batch_agent_id: str = ""  # the second agent, registered after an instance-metadata failure

    @property
    def headers(self) -> dict[str, str]:
        return agent_headers(self.token)


def agent_headers(token: str) -> dict[str, str]:
    """W02: every request, GETs included, carries these three headers."""
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "User-Agent": "python-requests/2.31.0",
    }


async def send(
    client: Client, method: str, path: str, headers: Mapping[str, str], body: object = None
) -> httpx.Response:
    """One call as python-requests makes it: a JSON body for POSTs, no body at all for GETs (W02)."""
    return await client.request(method, path, headers=dict(headers), content=_content(body))


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """W04/W05: the expected 2xx, JSON, and a non-empty object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert body
    return body


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """§1.5 envelope: JSON (never HTML), ``detail.code``, no ``success`` (W03, W14)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert set(body) == {"error", "status_code", "detail"}
    assert body["status_code"] == status
    assert body["detail"]["code"] == code
    return body


def route_wired(client: Client, method: str, path: str) -> bool:
    """Whether the app serves ``method path`` (path parameters written ``{}``)."""
    for route in client.app.routes:
        if re.sub(r"\{[^}]+\}", "{}", route.path) == path and method in getattr(route, "methods", set()):
            return True
    return False


def in_app(client: Client, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run ``work`` on a request-scoped unit of work of the app under test, on the app's own event loop.

    The test client serves the app from a portal thread; database connections belong to that loop.
    Used for seeding commands and for state checks only.
    """

    async def run() -> T:
        container: AsyncContainer = client.app.state.dishka_container
        async with container() as scope:
            return await work(await scope.get(UnitOfWork))

    return client.blocking_portal.call(run)


def concurrently(client: Client, calls: Sequence[tuple[str, str, Mapping[str, str], object]]) -> list[httpx.Response]:
    """W07: several calls of one agent in flight at once, interleaved on the app's loop (the test client's own
    transport serves one request at a time)."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app, client=("10.9.9.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as parallel:
            return list(
                await asyncio.gather(
                    *(parallel.request(m, p, headers=dict(h), content=_content(b)) for m, p, h, b in calls)
                )
            )

    return client.blocking_portal.call(run)


def _content(body: object) -> bytes | None:
    return None if body is None else json.dumps(body).encode()


def register_body(token: str, **overrides: object) -> dict[str, object]:
    """§3.1 body as agent v4 sends it (``client_token`` also in the body, ``public_ip`` null)."""
    body: dict[str, object] = {
        "client_token": token,
        "hostname": "ip-10-0-1-23",
        "instance_id": OLD,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1a",
        "ami_id": "ami-0c55b159cbfafe1f0",
        "agent_version": "4.0.0",
        "logical_agent_id": "web-prod-01",
        "mode": "spot",
        "private_ip": "10.0.1.23",
        "public_ip": None,
    }
    body.update(overrides)
    return body


def heartbeat_body(instance_id: str, az: str | None = "us-east-1a", status: str = "online") -> dict[str, object]:
    """§3.2 body."""
    return {
        "status": status,
        "monitored_instances": [instance_id],
        "instance_id": instance_id,
        "instance_type": "t3.medium",
        "mode": "spot",
        "az": az,
    }


def facts(instance_id: str, az: str) -> dict[str, object]:
    return {
        "instance_id": instance_id,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": az,
        "ami_id": "ami-0c55b159cbfafe1f0",
        "mode": "spot",
        "pool_id": f"t3.medium.{az}",
    }


def iso(value: datetime) -> str:
    """Agent timestamps: ISO-8601 with ``+00:00``."""
    return value.astimezone(UTC).isoformat()


async def replay_agent_v4(client: Client, admin_headers: Mapping[str, str]) -> None:
    """Every call of agent-v4-wire.md §3 that spotopt serves, in the order agent v4.0.0 makes them."""
    agent = await _new_client(client, admin_headers)
    await _auth_failures(agent)
    await _register(agent)
    await _register_after_metadata_failure(agent)
    await _heartbeats(agent)
    await _config(agent)
    await _pricing_report(agent)
    assert ok(await send(client, "GET", f"/api/agents/{agent.agent_id}/pending-commands", agent.headers)) == {
        "success": True,
        "commands": [],
    }
    await _concurrent_calls(agent)
    command_id = await _queue_switches(agent)
    await _poll_switch(agent, command_id)
    await _switch_report(agent, command_id)
    await _new_process_starts(agent)
    await _ack(agent, command_id)
    await _failed_switch(agent)
    await _replica_config(agent)
    await _rebalance(agent)
    await _termination_notice_without_replica(agent)
    await _cleanup(agent)
    await _shutdown(agent)
    await _registration_failure_shutdown(agent)
    await _deactivated_client(agent)


async def _new_client(client: Client, admin_headers: Mapping[str, str]) -> AgentProcess:
    body = {"name": f"replay-{uuid.uuid4().hex[:12]}", "max_agents": 2}
    created = ok(await send(client, "POST", "/api/admin/clients/create", admin_headers, body), 201)
    return AgentProcess(client, created["client_token"], created["client"]["id"])


async def _auth_failures(agent: AgentProcess) -> None:
    """W03: a bad token → 401 JSON, also when the body carries a valid ``client_token`` (the header wins)."""
    bad = agent_headers("spo_" + "x" * 43)
    error(
        await send(agent.client, "POST", "/api/agents/register", bad, register_body(agent.token)), 401, "invalid_token"
    )
    error(await send(agent.client, "GET", "/api/agents/anything/config", bad), 401, "invalid_token")


async def _register(agent: AgentProcess) -> None:
    """W10–W12: 201 with ``agent_id`` and ``config.enabled``; an unknown field is ignored; again → 200, same id."""
    body = register_body(agent.token, unknown_future_field={"x": 1})
    first = ok(await send(agent.client, "POST", "/api/agents/register", agent.headers, body), 201)
    assert isinstance(first["agent_id"], str)
    assert first["client_id"] == agent.client_id
    assert set(first) == {"agent_id", "client_id", "config"}
    assert set(first["config"]) == CONFIG_KEYS
    assert first["config"]["enabled"] is True
    agent.agent_id = first["agent_id"]
    again = ok(await send(agent.client, "POST", "/api/agents/register", agent.headers, body), 200)
    assert again == first


async def _register_after_metadata_failure(agent: AgentProcess) -> None:
    """W10/pitfall 13: ``"unknown"`` placeholders are accepted and never overwrite known facts; W12: 409 beyond max."""
    placeholders = {"instance_type": "unknown", "az": "unknown", "ami_id": "unknown", "private_ip": "unknown"}
    same = ok(
        await send(
            agent.client, "POST", "/api/agents/register", agent.headers, register_body(agent.token, **placeholders)
        )
    )
    assert same["agent_id"] == agent.agent_id
    other = register_body(agent.token, logical_agent_id="batch-01", instance_id=OTHER, **placeholders)
    second = ok(await send(agent.client, "POST", "/api/agents/register", agent.headers, other), 201)
    assert second["agent_id"] != agent.agent_id
    agent.batch_agent_id = second["agent_id"]
    assert isinstance(second["config"]["enabled"], bool)
    third = register_body(agent.token, logical_agent_id="batch-02", instance_id="i-0bbbbbbbbbbbbbbbb")
    refused = error(
        await send(agent.client, "POST", "/api/agents/register", agent.headers, third), 409, "max_agents_reached"
    )
    assert refused["detail"]["max_agents"] == 2
    assert refused["detail"]["agent_count"] == 2
    known = in_app(agent.client, lambda uow: uow.instances.get(ClientId(agent.client_id), OLD))
    unknown = in_app(agent.client, lambda uow: uow.instances.get(ClientId(agent.client_id), OTHER))
    assert known is not None
    assert (known.instance_type, known.az, known.pool_id, known.ami_id) == (
        "t3.medium",
        "us-east-1a",
        OLD_POOL,
        "ami-0c55b159cbfafe1f0",
    )
    assert unknown is not None
    assert unknown.pool_id is None


async def _heartbeats(agent: AgentProcess) -> None:
    """W13: 2xx ``{"success": true}`` for ``online`` and ``disabled``; nulls tolerated."""
    path = f"/api/agents/{agent.agent_id}/heartbeat"
    assert ok(await send(agent.client, "POST", path, agent.headers, heartbeat_body(OLD))) == {"success": True}
    nulls = {**heartbeat_body(OLD, az=None, status="disabled"), "instance_type": None}
    assert ok(await send(agent.client, "POST", path, agent.headers, nulls)) == {"success": True}
    assert ok(await send(agent.client, "POST", path, agent.headers, heartbeat_body(OLD))) == {"success": True}


async def _config(agent: AgentProcess) -> None:
    """W02/W15: a GET with ``Content-Type`` and no body is served; AgentConfig with a boolean ``enabled``."""
    config = ok(await send(agent.client, "GET", f"/api/agents/{agent.agent_id}/config", agent.headers))
    assert set(config) == CONFIG_KEYS
    assert config["enabled"] is True


def pricing_body(now: datetime) -> dict[str, object]:
    """§3.6 body of a spot agent (six pools with ``instance_type``, ``collected_at`` in ``+00:00`` form)."""
    prices = {"a": 0.0125, "b": 0.0118, "c": 0.0131, "d": 0.0112, "e": 0.0139, "f": 0.0127}
    pools = [
        {"pool_id": f"t3.medium.us-east-1{z}", "instance_type": "t3.medium", "az": f"us-east-1{z}", "price": p}
        for z, p in prices.items()
    ]
    return {
        "instance": {
            "instance_id": OLD,
            "instance_type": "t3.medium",
            "region": "us-east-1",
            "az": "us-east-1a",
            "mode": "spot",
            "pool_id": OLD_POOL,
        },
        "pricing": {
            "on_demand_price": 0.0416,
            "current_spot_price": 0.0125,
            "cheapest_pool": {"pool_id": NEW_POOL, "price": 0.0112},
            "spot_pools": pools,
            "collected_at": iso(now),
        },
    }


async def _pricing_report(agent: AgentProcess) -> None:
    """W22 (A6): accepted as sent; on-demand form with nulls, empty pools and a fallback estimate; bad items skipped."""
    path = f"/api/agents/{agent.agent_id}/pricing-report"
    now = datetime.now(UTC)
    spot = pricing_body(now)
    ondemand = pricing_body(now + timedelta(seconds=1))
    ondemand["instance"] = {**ondemand["instance"], "mode": "ondemand", "pool_id": None}  # type: ignore[dict-item]
    ondemand["pricing"] = {
        "on_demand_price": 0.1,
        "current_spot_price": None,
        "cheapest_pool": None,
        "spot_pools": [],
        "collected_at": iso(now + timedelta(seconds=1)),
    }
    invalid = pricing_body(now + timedelta(seconds=2))
    invalid["pricing"]["spot_pools"][2]["price"] = -1  # type: ignore[index]
    if not route_wired(agent.client, "POST", "/api/agents/{}/pricing-report"):
        error(await send(agent.client, "POST", path, agent.headers, spot), 404, "not_found")
        return
    for body, accepted, rejected in ((spot, 6, 0), (ondemand, 0, 0), (invalid, 5, 1)):
        answer = ok(await send(agent.client, "POST", path, agent.headers, body))
        assert answer["success"] is True
        assert isinstance(answer["report_id"], str)
        assert (answer["pools_accepted"], answer["pools_rejected"]) == (accepted, rejected)


async def _concurrent_calls(agent: AgentProcess) -> None:
    """W07: the agent's workers overlap; no 5xx, no deadlock."""
    base = f"/api/agents/{agent.agent_id}"
    answers = concurrently(
        agent.client,
        [
            ("POST", f"{base}/heartbeat", agent.headers, heartbeat_body(OLD)),
            ("GET", f"{base}/config", agent.headers, None),
            ("GET", f"{base}/pending-commands", agent.headers, None),
            ("GET", f"{base}/replica-config", agent.headers, None),
            ("POST", f"{base}/heartbeat", agent.headers, heartbeat_body(OLD)),
        ],
    )
    for answer in answers:
        ok(answer)


async def _queue_switches(agent: AgentProcess) -> str:
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


async def _poll_switch(agent: AgentProcess, command_id: str) -> None:
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


def switch_report_body(delivered_at: datetime) -> dict[str, object]:
    """§3.7 body: ``prices`` and the agent's timing names, no ``command_id``; the old instance was terminated."""
    t = delivered_at
    return {
        "old_instance": facts(OLD, "us-east-1a"),
        "new_instance": facts(NEW, "us-east-1d"),
        "snapshot": {"used": False},
        "prices": {"on_demand": 0.0416, "old_spot": 0.0125, "new_spot": 0.0112},
        "timing": {
            "switch_initiated_at": iso(t - timedelta(seconds=1)),
            "new_instance_launched_at": iso(t + timedelta(milliseconds=1)),
            "new_instance_ready_at": iso(t + timedelta(milliseconds=2)),
            "traffic_switched_at": iso(t + timedelta(milliseconds=3)),
            "old_instance_terminated_at": iso(t + timedelta(hours=1)),
        },
        "trigger": "model",
    }


async def _switch_report(agent: AgentProcess, command_id: str) -> None:
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
    await _check_switch_state(agent, command_id, body)


async def _check_switch_state(agent: AgentProcess, command_id: str, body: dict[str, Any]) -> None:
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


async def _new_process_starts(agent: AgentProcess) -> None:
    """W11/W12: the agent on the new instance registers under the same logical id → the same ``agent_id``."""
    body = register_body(agent.token, instance_id=NEW, az="us-east-1d", hostname="ip-10-0-4-17", private_ip="10.0.4.17")
    answer = ok(await send(agent.client, "POST", "/api/agents/register", agent.headers, body))
    assert answer["agent_id"] == agent.agent_id
    path = f"/api/agents/{agent.agent_id}/heartbeat"
    assert ok(await send(agent.client, "POST", path, agent.headers, heartbeat_body(NEW, "us-east-1d"))) == {
        "success": True
    }


async def _ack(agent: AgentProcess, command_id: str) -> None:
    """W21: 2xx with the recorded status; a repeat is a no-op; W19: never delivered again."""
    path = f"/api/agents/{agent.agent_id}/commands/{command_id}/executed"
    expected = {"success": True, "command_id": command_id, "status": "completed"}
    done = {"success": True, "message": "Switch completed"}
    assert ok(await send(agent.client, "POST", path, agent.headers, done)) == expected
    assert ok(await send(agent.client, "POST", path, agent.headers, done)) == expected
    poll = f"/api/agents/{agent.agent_id}/pending-commands"
    assert ok(await send(agent.client, "GET", poll, agent.headers)) == {"success": True, "commands": []}


async def _failed_switch(agent: AgentProcess) -> None:
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


async def _replica_config(agent: AgentProcess) -> None:
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


async def _rebalance(agent: AgentProcess) -> None:
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


async def _termination_notice_without_replica(agent: AgentProcess) -> None:
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


async def _cleanup(agent: AgentProcess) -> None:
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


async def _shutdown(agent: AgentProcess) -> None:
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


async def _registration_failure_shutdown(agent: AgentProcess) -> None:
    """W14: ``/api/agents/None/heartbeat`` → JSON 404 with a valid token, JSON 401 with a bad one."""
    path = "/api/agents/None/heartbeat"
    answer = await send(agent.client, "POST", path, agent.headers, SHUTDOWN)
    assert error(answer, 404, "not_found") == {
        "error": "Agent not found",
        "status_code": 404,
        "detail": {"code": "not_found"},
    }
    error(await send(agent.client, "POST", path, agent_headers("spo_" + "y" * 43), SHUTDOWN), 401, "invalid_token")


async def _deactivated_client(agent: AgentProcess) -> None:
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
