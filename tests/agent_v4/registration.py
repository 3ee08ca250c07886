"""Agent v4 replay steps: a new client, authentication, registration (W10–W12), heartbeats, config, the pricing
report and overlapping calls (W02–W07, W13, W15, W22)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from spotopt.domain.shared.ids import ClientId
from tests.agent_v4.agent import (
    CONFIG_KEYS,
    OLD,
    OLD_POOL,
    OTHER,
    AgentProcess,
    Client,
    agent_headers,
    concurrently,
    error,
    heartbeat_body,
    in_app,
    iso,
    ok,
    pricing_body,
    register_body,
    route_wired,
    send,
)


async def new_client(client: Client, admin_headers: Mapping[str, str]) -> AgentProcess:
    body = {"name": f"replay-{uuid.uuid4().hex[:12]}", "max_agents": 2}
    created = ok(await send(client, "POST", "/api/admin/clients/create", admin_headers, body), 201)
    return AgentProcess(client, created["client_token"], created["client"]["id"])


async def auth_failures(agent: AgentProcess) -> None:
    """W03: a bad token → 401 JSON, also when the body carries a valid ``client_token`` (the header wins)."""
    bad = agent_headers("spo_" + "x" * 43)
    error(
        await send(agent.client, "POST", "/api/agents/register", bad, register_body(agent.token)), 401, "invalid_token"
    )
    error(await send(agent.client, "GET", "/api/agents/anything/config", bad), 401, "invalid_token")


async def register(agent: AgentProcess) -> None:
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


async def register_after_metadata_failure(agent: AgentProcess) -> None:
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


async def heartbeats(agent: AgentProcess) -> None:
    """W13: 2xx ``{"success": true}`` for ``online`` and ``disabled``; nulls tolerated."""
    path = f"/api/agents/{agent.agent_id}/heartbeat"
    assert ok(await send(agent.client, "POST", path, agent.headers, heartbeat_body(OLD))) == {"success": True}
    nulls = {**heartbeat_body(OLD, az=None, status="disabled"), "instance_type": None}
    assert ok(await send(agent.client, "POST", path, agent.headers, nulls)) == {"success": True}
    assert ok(await send(agent.client, "POST", path, agent.headers, heartbeat_body(OLD))) == {"success": True}


async def config(agent: AgentProcess) -> None:
    """W02/W15: a GET with ``Content-Type`` and no body is served; AgentConfig with a boolean ``enabled``."""
    config = ok(await send(agent.client, "GET", f"/api/agents/{agent.agent_id}/config", agent.headers))
    assert set(config) == CONFIG_KEYS
    assert config["enabled"] is True


async def pricing_report(agent: AgentProcess) -> None:
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


async def concurrent_calls(agent: AgentProcess) -> None:
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
