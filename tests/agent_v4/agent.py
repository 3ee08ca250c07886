"""Protocol replay of agent v4.0.0 (agent-v4-wire.md W01–W39): the agent's calls, in its order, with its bodies.

``replay_agent_v4`` drives a running app the way one field agent does: register (twice, then after a metadata
failure), heartbeats, config, pricing report, command polling, a switch with its report and ack, a failed switch,
replica config, a rebalance signal, a termination notice without a possible replica (R8, R9, the on-demand
fallback), cleanup, the shutdown heartbeat and the post-failure ``None`` heartbeat. It asserts every response field
the agent reads. Switch commands are queued through the app's container, as the evaluator does. Routes still being
wired (A6, A10, R8/R9) must answer with a JSON 404 until they exist; from then on their full contract is asserted.

This module is the agent's wire vocabulary (its HTTP client, headers and bodies) and the replay's order; the steps
live in ``registration``, ``switching`` and ``signals_and_shutdown``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from dishka import AsyncContainer
from litestar import Litestar
from litestar.testing import AsyncTestClient

from spotopt.application.ports.uow import UnitOfWork

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
    # The steps speak this module's wire vocabulary, so they are imported when the replay runs (not at import time).
    from tests.agent_v4 import registration, signals_and_shutdown, switching

    agent = await registration.new_client(client, admin_headers)
    await registration.auth_failures(agent)
    await registration.register(agent)
    await registration.register_after_metadata_failure(agent)
    await registration.heartbeats(agent)
    await registration.config(agent)
    await registration.pricing_report(agent)
    assert ok(await send(client, "GET", f"/api/agents/{agent.agent_id}/pending-commands", agent.headers)) == {
        "success": True,
        "commands": [],
    }
    await registration.concurrent_calls(agent)
    command_id = await switching.queue_switches(agent)
    await switching.poll_switch(agent, command_id)
    await switching.switch_report(agent, command_id)
    await switching.new_process_starts(agent)
    await switching.ack(agent, command_id)
    await switching.failed_switch(agent)
    await signals_and_shutdown.replica_config(agent)
    await signals_and_shutdown.rebalance(agent)
    await signals_and_shutdown.termination_notice_without_replica(agent)
    await signals_and_shutdown.cleanup(agent)
    await signals_and_shutdown.shutdown(agent)
    await signals_and_shutdown.registration_failure_shutdown(agent)
    await signals_and_shutdown.deactivated_client(agent)


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
