"""Client read routes C1 – C4, C10, C14, C17 through the real app on the real database (MariaDB under CI, SQLite
locally): wire shapes (A.2, A.3, A.4, A.7, A.8), §1.8 paging, §1.3 tenancy and §1.4 bad query parameters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests import services
from tests.agent_v4.agent import OLD, agent_headers, heartbeat_body, pricing_body, register_body
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
AGENT_KEYS = {
    "id", "client_id", "logical_agent_id", "hostname", "agent_version", "private_ip", "public_ip", "status",
    "lifecycle", "liveness", "reported_status", "enabled", "auto_switch_enabled", "manual_replica_enabled",
    "auto_terminate_enabled", "terminate_wait_seconds", "thresholds", "instance_id", "instance_type", "region", "az",
    "mode", "pool_id", "placement_since", "replica_count", "current_replica_id", "last_heartbeat_at",
    "seconds_since_heartbeat", "last_switch_at", "last_failover_at", "last_primary_change_at", "interruption_count",
    "created_at", "updated_at", "deleted_at",
}  # fmt: skip
INSTANCE_KEYS = {
    "instance_id", "client_id", "agent_id", "logical_agent_id", "role", "kept_reason", "origin", "is_active",
    "instance_type", "region", "az", "mode", "pool_id", "ami_id", "current_price", "baseline", "first_seen_at",
    "launched_at", "primary_since", "role_changed_at", "last_seen_at", "termination_expected_at",
    "termination_requested_at", "terminated_at", "termination_reason", "termination_confirmed",
}  # fmt: skip
SUMMARY_KEYS = {
    "id", "name", "email", "status", "is_active", "plan", "max_agents", "agent_count", "agents_online",
    "primary_count", "standby_count", "kept_old_count", "total_savings", "savings_today", "last_heartbeat_at",
    "created_at",
}  # fmt: skip
REPORT_KEYS = {
    "id", "agent_id", "instance_id", "instance_type", "region", "az", "mode", "pool_id", "on_demand_price",
    "current_spot_price", "cheapest_pool_id", "cheapest_pool_price", "pool_count", "pools_rejected", "collected_at",
    "received_at",
}  # fmt: skip
STANDBY = "i-07c1d2e3f4a5b6c7d"
Client = AsyncTestClient[Litestar]


@dataclass
class Tenant:
    client_id: str
    headers: dict[str, str]
    agent_ids: list[str]


def instance_of(n: int) -> str:
    return f"i-{n:017x}"


async def new_tenant(client: Client, name: str, agents: int) -> Tenant:
    created = await client.post(
        "/api/admin/clients/create",
        json={"name": name, "email": f"{name}@example.com", "max_agents": 20},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    headers = agent_headers(body["client_token"])
    tenant = Tenant(client_id=body["client"]["id"], headers=headers, agent_ids=[])
    for n in range(agents):
        instance = OLD if n == 0 else instance_of(hash((name, n)) % 16**17)
        registration = register_body(body["client_token"], logical_agent_id=f"{name}-{n}", instance_id=instance)
        answer = await client.post("/api/agents/register", json=registration, headers=headers)
        assert answer.status_code == 201, answer.text
        tenant.agent_ids.append(answer.json()["agent_id"])
    return tenant


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    settings = make_settings(services.test_database_url(tmp_path), tmp_path)
    reset_database(settings)
    async with app_client(settings) as test_client:
        yield test_client


@pytest.fixture
async def tenants(client: Client) -> tuple[Tenant, Tenant]:
    first = await new_tenant(client, "alpha", 3)
    second = await new_tenant(client, "beta", 1)
    agent = first.agent_ids[0]
    beat = await client.post(f"/api/agents/{agent}/heartbeat", json=heartbeat_body(OLD), headers=first.headers)
    assert beat.status_code == 200, beat.text
    report = await client.post(
        f"/api/agents/{agent}/pricing-report", json=pricing_body(datetime.now(UTC)), headers=first.headers
    )
    assert report.status_code == 200, report.text
    signal = {"instance_id": OLD, "detected_at": datetime.now(UTC).isoformat()}
    at_risk = await client.post(f"/api/agents/{agent}/rebalance-recommendation", json=signal, headers=first.headers)
    assert at_risk.status_code in (200, 201), at_risk.text
    listed = await client.get(f"/api/agents/{agent}/replicas", headers=first.headers)
    [replica] = listed.json()["replicas"]
    attach = {"instance_id": STANDBY}
    attached = await client.put(f"/api/agents/{agent}/replicas/{replica['id']}", json=attach, headers=first.headers)
    assert attached.status_code == 200, attached.text
    return first, second


async def get(client: Client, path: str, tenant: Tenant, expect: int = 200, **params: Any) -> dict[str, Any]:
    answer = await client.get(path, headers=tenant.headers, params=params)
    assert answer.status_code == expect, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = answer.json()
    return body


async def test_c1_validate_returns_the_tokens_client(client: Client, tenants: tuple[Tenant, Tenant]) -> None:
    first, _ = tenants
    body = await get(client, "/api/client/validate", first)
    assert body == {"valid": True, "client_id": first.client_id, "name": "alpha", "email": "alpha@example.com"}
    missing = await client.get("/api/client/validate", headers={"Content-Type": "application/json"})
    assert (missing.status_code, missing.json()["detail"]["code"]) == (401, "missing_token")


async def test_c2_summary_counts_the_fleet(client: Client, tenants: tuple[Tenant, Tenant]) -> None:
    first, _ = tenants
    body = await get(client, f"/api/client/{first.client_id}", first)
    assert set(body) == SUMMARY_KEYS
    assert (body["agent_count"], body["agents_online"]) == (3, 3)
    assert (body["primary_count"], body["standby_count"], body["kept_old_count"]) == (3, 1, 0)
    assert body["status"] == "active"
    assert body["is_active"] is True
    assert isinstance(body["total_savings"], float | int)
    assert body["total_savings"] == body["savings_today"]
    assert body["last_heartbeat_at"] is not None


async def test_c3_agents_are_wire_objects_newest_first_and_paged(
    client: Client, tenants: tuple[Tenant, Tenant]
) -> None:
    first, _ = tenants
    path = f"/api/client/{first.client_id}/agents"
    body = await get(client, path, first)
    assert body["total"] == 3
    assert [a["id"] for a in body["agents"]] == list(reversed(first.agent_ids))
    agent = next(a for a in body["agents"] if a["id"] == first.agent_ids[0])
    assert set(agent) == AGENT_KEYS
    assert (agent["status"], agent["replica_count"], agent["instance_id"]) == ("online", 1, OLD)
    assert agent["current_replica_id"] is not None
    assert set(agent["thresholds"]) == {
        "min_savings_percent", "risk_threshold", "max_switches_per_day", "max_switches_per_week",
        "min_pool_duration_hours", "cooldown_minutes",
    }  # fmt: skip
    page = await get(client, path, first, limit=2, offset=1)
    assert page["total"] == 3
    assert [a["id"] for a in page["agents"]] == list(reversed(first.agent_ids))[1:3]
    assert (await get(client, path, first, status="offline,deleted")) == {"agents": [], "total": 0}
    assert (await get(client, path, first, status="online"))["total"] == 3


async def test_c10_instances_carry_the_price_in_effect_and_filter(
    client: Client, tenants: tuple[Tenant, Tenant]
) -> None:
    first, _ = tenants
    path = f"/api/client/{first.client_id}/instances"
    body = await get(client, path, first)
    assert body["total"] == 4
    assert all(set(i) == INSTANCE_KEYS for i in body["instances"])
    standby = await get(client, path, first, role="standby")
    assert [i["instance_id"] for i in standby["instances"]] == [STANDBY]
    own = await get(client, path, first, agent_id=first.agent_ids[0], role="primary")
    assert [(i["instance_id"], i["logical_agent_id"]) for i in own["instances"]] == [(OLD, "alpha-0")]
    assert (await get(client, path, first, mode="ondemand"))["total"] == 0
    assert (await get(client, path, first, role="all", limit=1))["total"] == 4


async def test_c17_replicas_are_a_pure_read_with_the_logical_id(client: Client, tenants: tuple[Tenant, Tenant]) -> None:
    first, _ = tenants
    path = f"/api/client/{first.client_id}/replicas"
    body = await get(client, path, first)
    assert body["total"] == 1
    replica = body["replicas"][0]
    assert (replica["instance_id"], replica["logical_agent_id"], replica["status"]) == (STANDBY, "alpha-0", "syncing")
    assert replica["pool"]["id"] == replica["pool_id"]
    again = await get(client, path, first, status="launching")
    assert again == {"replicas": [], "total": 0}


async def test_c14_pricing_history_lists_the_clients_reports(client: Client, tenants: tuple[Tenant, Tenant]) -> None:
    first, second = tenants
    body = await get(client, "/api/client/pricing-history", first)
    assert (body["total"], body["days"]) == (1, 7)
    assert set(body["history"][0]) == REPORT_KEYS
    assert body["history"][0]["agent_id"] == first.agent_ids[0]
    assert (await get(client, "/api/client/pricing-history", second))["total"] == 0


async def test_c4_decisions_list_the_stored_decisions(client: Client, tenants: tuple[Tenant, Tenant]) -> None:
    first, _ = tenants
    agent = first.agent_ids[0]
    decided = await client.post(f"/api/agents/{agent}/decide", json={}, headers=first.headers)
    assert decided.status_code == 200, decided.text
    body = await get(client, f"/api/client/{first.client_id}/agents/decisions", first)
    assert body["total"] == 1
    assert body["decisions"][0]["id"] == decided.json()["id"]
    assert body["decisions"][0]["logical_agent_id"] == "alpha-0"
    none = await get(client, f"/api/client/{first.client_id}/agents/decisions", first, trigger="evaluator")
    assert none == {"decisions": [], "total": 0}


@pytest.mark.parametrize(
    "path",
    ["", "/agents", "/agents/decisions", "/instances", "/replicas"],
)
async def test_another_clients_path_is_client_mismatch(
    client: Client, tenants: tuple[Tenant, Tenant], path: str
) -> None:
    """§1.3 / CL-4: a path naming another client is 403 ``client_mismatch``, never its data."""
    first, second = tenants
    body = await get(client, f"/api/client/{first.client_id}{path}", second, 403)
    assert body["detail"]["code"] == "client_mismatch"
    assert first.agent_ids[0] not in str(body)


@pytest.mark.parametrize("path", ["/agents/decisions", "/instances", "/replicas"])
async def test_a_foreign_agent_filter_is_not_found(client: Client, tenants: tuple[Tenant, Tenant], path: str) -> None:
    """§5: ``agent_id`` query values of another client (or unknown) are 404, indistinguishable."""
    first, second = tenants
    foreign = await get(client, f"/api/client/{second.client_id}{path}", second, 404, agent_id=first.agent_ids[0])
    unknown = await get(client, f"/api/client/{second.client_id}{path}", second, 404, agent_id="None")
    assert foreign == unknown
    history = await get(client, "/api/client/pricing-history", second, 404, agent_id=first.agent_ids[0])
    assert history["detail"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/agents", {"limit": "0"}, "limit"),
        ("/agents", {"limit": "501"}, "limit"),
        ("/agents", {"offset": "-1"}, "offset"),
        ("/agents", {"limit": "1.5"}, "limit"),
        ("/agents", {"status": "sleeping"}, "status"),
        ("/agents", {"include_deleted": "yes"}, "include_deleted"),
        ("/agents/decisions", {"days": "0"}, "days"),
        ("/agents/decisions", {"days": "366"}, "days"),
        ("/agents/decisions", {"action": "jump"}, "action"),
        ("/instances", {"role": "leader"}, "role"),
        ("/instances", {"mode": "reserved"}, "mode"),
        ("/replicas", {"status": "asleep"}, "status"),
    ],
)
async def test_bad_query_parameters_are_a_json_400(
    client: Client, tenants: tuple[Tenant, Tenant], path: str, params: dict[str, str], field: str
) -> None:
    first, _ = tenants
    body = await get(client, f"/api/client/{first.client_id}{path}", first, 400, **params)
    assert body["detail"]["code"] == "validation_error"
    assert body["detail"]["field"] == field


async def test_bad_days_on_pricing_history_is_a_json_400(client: Client, tenants: tuple[Tenant, Tenant]) -> None:
    first, _ = tenants
    body = await get(client, "/api/client/pricing-history", first, 400, days="abc")
    assert (body["detail"]["code"], body["detail"]["field"]) == ("validation_error", "days")
