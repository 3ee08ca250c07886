"""M2: deactivate a client and delete its agents (api.md §7 M2; domain CL-6, CL-2, A9, CC-2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spotopt.application.errors import NotFoundError
from spotopt.domain.agents.values import InstanceRole, Lifecycle
from spotopt.domain.clients.client import ClientStatus
from tests.factories.client_world import ADMIN, error, ok, world
from tests.factories.common import OLD, T0
from tests.factories.world import assert_ledger_consistent
from tests.factories.writes_world import WritesWorld


async def test_cl6_deactivates_deletes_every_agent_and_leaves_other_tenants_alone() -> None:
    world = WritesWorld()
    agent = await world.agent()
    client = world.uow.store.clients[agent.client_id]
    other = await world.registered(logical_agent_id="other-web")
    result = await world.delete_client(client.client_id)
    assert (result.client_id, result.agents_deleted) == (client.client_id, 1)
    stored = world.uow.store.clients[client.client_id]
    assert (stored.status, stored.deleted_at) == (ClientStatus.INACTIVE, T0)
    assert world.uow.store.agents[agent.agent_id].lifecycle is Lifecycle.DELETED
    assert world.instance(agent, OLD).role is InstanceRole.TERMINATED
    assert world.uow.store.agents[other.agent_id].lifecycle is Lifecycle.ACTIVE
    assert world.uow.store.clients[other.client_id].status is ClientStatus.ACTIVE
    assert "client_deleted" in world.uow.event_types()
    assert_ledger_consistent(world)


async def test_m2_a_repeat_answers_zero_agents_and_writes_nothing() -> None:
    world = WritesWorld()
    agent = await world.agent()
    await world.delete_client(agent.client_id)
    commits, events = world.uow.commits, list(world.uow.event_types())
    again = await world.delete_client(agent.client_id)
    assert again.agents_deleted == 0
    assert world.uow.commits == commits
    assert world.uow.event_types() == events
    assert world.uow.store.clients[agent.client_id].deleted_at == T0


async def test_m2_unknown_client_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        await WritesWorld().delete_client("None")


async def test_m2_over_http_the_token_stops_working_and_the_other_tenant_keeps_its_own(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        body = ok(await w.http.delete(f"/api/admin/clients/{w.acme.client_id}", headers=ADMIN))
        assert body == {"success": True, "client_id": w.acme.client_id, "status": "inactive", "agents_deleted": 1}
        error(await w.acme.get("/api/notifications"), 403, "client_inactive")  # CL-2
        error(await w.acme.post(f"/api/agents/{w.acme.agent_id}/heartbeat", {}), 403, "client_inactive")
        assert ok(await w.other.get(f"/api/agents/{w.other.agent_id}/config"))["enabled"] is True
        again = ok(await w.http.delete(f"/api/admin/clients/{w.acme.client_id}", headers=ADMIN))
        assert again["agents_deleted"] == 0
        error(await w.http.delete("/api/admin/clients/None", headers=ADMIN), 404, "not_found")
        error(
            await w.http.delete(f"/api/admin/clients/{w.other.client_id}", headers=w.other.headers), 403, "wrong_realm"
        )
