"""A12, A13, A14 over HTTP: the real app on SQLite with a fixed clock (api.md §3, A.5, A.7, §1.5 errors)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dishka import Provider, Scope, provide
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.errors import LockContentionError
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.bootstrap.settings import Settings
from spotopt.domain.pricing.market import OnDemandPrice, SpotPool
from spotopt.domain.shared.ids import ClientId
from tests.factories.decisions import CHEAP, CURRENT, NOW, OTHER, make_bucket, open_episode
from tests.fakes.system import FixedClock
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database
from tests.services import sqlite_url

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
INSTANCE = "i-0123456789abcdef0"
DECISION_KEYS = {
    "id", "agent_id", "logical_agent_id", "evaluated_at", "trigger", "action", "target_mode", "target_pool_id",
    "motive", "expected_hourly_savings", "expected_savings_vs_ondemand", "risk", "confidence", "allowed",
    "reason_code", "reason", "engine_kind", "policy_version", "risk_model_version", "price_model_version",
    "fallback_used", "flags", "candidates", "will_auto_execute", "command_id",
}  # fmt: skip
COMMAND_KEYS = {
    "id", "command_type", "target_mode", "target_pool_id", "terminate_wait_seconds", "priority", "instance_id",
    "created_at", "agent_id", "origin", "status", "motive", "reason", "decision_id", "episode_id", "expires_at",
    "delivered_at", "lease_expires_at", "delivery_count", "superseded_command_id",
}  # fmt: skip


class FixedClockProvider(Provider):
    @provide(scope=Scope.APP, override=True)
    def clock(self) -> Clock:
        return FixedClock(NOW)


@dataclass
class Agent:
    client: AsyncTestClient  # type: ignore[type-arg]
    settings: Settings
    client_id: str
    agent_id: str
    headers: dict[str, str]

    async def post(self, route: str, body: object = None) -> Any:
        return await self.client.post(f"/api/agents/{self.agent_id}/{route}", json=body or {}, headers=self.headers)


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[SqlAlchemyUnitOfWork]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            yield SqlAlchemyUnitOfWork(session)
    finally:
        await engine.dispose()


async def seed_market(settings: Settings) -> None:
    async with database(settings) as uow:
        for pool_id, price in ((CURRENT, "0.013100"), (CHEAP, "0.010000"), (OTHER, "0.012500")):
            az = pool_id.rpartition(".")[2]
            await uow.pricing.add_pool(SpotPool(pool_id, "t3.medium", "us-east-1", az, NOW - timedelta(days=2), NOW))
            if pool_id != OTHER:  # OTHER stays unpriced (PR-24)
                await uow.buckets.save([make_bucket(pool_id, Decimal(price))])
        await uow.pricing.add_ondemand(OnDemandPrice("t3.medium", "us-east-1", Decimal("0.0416"), "catalogue", NOW))
        await uow.commit()


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[Agent]:
    async with registered(tmp_path) as running:
        yield running


@asynccontextmanager
async def registered(tmp_path: Path, *providers: Provider) -> AsyncIterator[Agent]:
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    await seed_market(settings)
    async with app_client(settings, FixedClockProvider(), *providers) as client:
        created = (await client.post("/api/admin/clients/create", json={"name": "Acme"}, headers=ADMIN)).json()
        headers = {"Authorization": f"Bearer {created['client_token']}"}
        body = {
            "logical_agent_id": "web-1", "instance_id": INSTANCE, "instance_type": "t3.medium",
            "region": "us-east-1", "az": "us-east-1c", "mode": "spot",
        }  # fmt: skip
        registered = await client.post("/api/agents/register", json=body, headers=headers)
        assert registered.status_code == 201
        yield Agent(client, settings, created["client"]["id"], registered.json()["agent_id"], headers)


async def change_agent(agent: Agent, **values: Any) -> None:
    async with database(agent.settings) as uow:
        stored = await uow.agents.get(ClientId(agent.client_id), agent.agent_id)
        assert stored is not None
        for name, value in values.items():
            setattr(stored, name, value)
        await uow.commit()


async def test_a12_answers_a_stored_a7_decision(agent: Agent) -> None:
    response = await agent.post("decide", {"instance": {"instance_id": INSTANCE, "current_mode": "spot"}})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert set(body) == DECISION_KEYS | {"success"}
    assert (body["trigger"], body["agent_id"], body["logical_agent_id"]) == ("decide_request", agent.agent_id, "web-1")
    assert (body["action"], body["target_pool_id"], body["motive"]) == ("switch_pool", CHEAP, "savings")
    # The placement is younger than min_pool_duration_hours (G4), so the move is held.
    assert (body["allowed"], body["reason_code"], body["will_auto_execute"]) == (False, "min_pool_duration", False)
    assert body["expected_hourly_savings"] == 0.0031
    assert body["risk"] == 0.05
    assert body["evaluated_at"] == "2026-11-28T09:00:00Z"
    assert body["flags"] == []
    assert body["candidates"][0] == {
        "pool_id": CHEAP, "price": 0.01, "forecast_price": 0.01, "risk": 0.05, "eligible": True, "verdict": "eligible",
    }  # fmt: skip
    assert {c["pool_id"]: c["verdict"] for c in body["candidates"]}[OTHER] == "unpriced"
    async with database(agent.settings) as uow:
        stored = await uow.decisions.get(body["id"])
    assert stored is not None
    assert stored.reason == body["reason"]


async def test_a12_dp5_mismatching_placement_is_flagged_and_request_prices_ignored(agent: Agent) -> None:
    plain = (await agent.post("decide")).json()
    body = {
        "instance": {"instance_id": INSTANCE, "mode": "spot", "pool_id": CHEAP},
        "pricing": {
            "current_spot_price": 99.0,
            "spot_pools": [{"pool_id": OTHER, "az": "us-east-1a", "price": 0.0001}],
        },
        "unknown_field": True,
    }
    flagged = await agent.post("decide", body)
    assert flagged.status_code == 200
    assert flagged.json()["flags"] == ["placement_mismatch"]
    assert {k: v for k, v in flagged.json().items() if k not in {"id", "flags"}} == {
        k: v for k, v in plain.items() if k not in {"id", "flags"}
    }


async def test_a12_invalid_instance_is_a_validation_error_and_unknown_agent_404(agent: Agent) -> None:
    bad = await agent.post("decide", {"instance": {"instance_id": "i-XYZ"}})
    assert bad.status_code == 400
    assert bad.json()["detail"]["code"] == "validation_error"
    missing = await agent.client.post("/api/agents/nope/decide", json={}, headers=agent.headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == {"code": "not_found"}


async def test_a13_recommendation_with_trigger_and_candidates(agent: Agent) -> None:
    response = await agent.client.get(f"/api/agents/{agent.agent_id}/switch-recommendation", headers=agent.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["trigger"], body["will_auto_execute"]) == (True, "recommendation_request", False)
    assert [c["pool_id"] for c in body["candidates"]] == [CHEAP, CURRENT, OTHER]
    unauthenticated = await agent.client.get(f"/api/agents/{agent.agent_id}/switch-recommendation")
    assert unauthenticated.status_code == 401


async def test_a14_creates_then_replays_an_api_command(agent: Agent) -> None:
    body = {"target_mode": "spot", "target_pool_id": CHEAP, "reason": "cheaper", "idempotency_key": "k1", "x": 1}
    created = await agent.post("issue-switch-command", body)
    assert created.status_code == 201
    payload = created.json()
    assert (payload["success"], payload["created"]) == (True, True)
    command = payload["command"]
    assert set(command) == COMMAND_KEYS
    assert (command["origin"], command["status"], command["priority"]) == ("api", "pending", 25)
    assert (command["instance_id"], command["terminate_wait_seconds"]) == (INSTANCE, 300)
    assert command["expires_at"] == "2026-11-28T10:00:00Z"
    replay = await agent.post("issue-switch-command", body)
    assert replay.status_code == 200
    assert (replay.json()["created"], replay.json()["command"]["id"]) == (False, command["id"])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"target_mode": "spot", "target_pool_id": CURRENT}, 409, "already_in_target"),
        ({"target_mode": "spot", "target_pool_id": OTHER}, 422, "unpriced"),
        ({"target_mode": "spot", "target_pool_id": "t3.large.us-east-1b"}, 422, "other_type_or_region"),
        ({"target_mode": "spot", "target_pool_id": "t3.medium.us-east-1d"}, 422, "unavailable"),
        ({"target_mode": "spot"}, 400, "validation_error"),
        ({"target_mode": "spot", "target_pool_id": CHEAP, "priority": 76}, 400, "validation_error"),
        ({"target_mode": "spot", "target_pool_id": CHEAP, "priority": 2.5}, 400, "validation_error"),
        ({"target_mode": "somewhere"}, 400, "validation_error"),
        ({}, 400, "validation_error"),
    ],
)
async def test_a14_refusals_are_json_errors(agent: Agent, body: dict[str, Any], status: int, code: str) -> None:
    response = await agent.post("issue-switch-command", body)
    assert response.status_code == status
    payload = response.json()
    assert payload["detail"]["code"] == code
    assert payload["status_code"] == status
    assert "success" not in payload


async def test_a14_cm6_disabled_settings_are_403_setting_disabled(agent: Agent) -> None:
    await change_agent(agent, auto_switch_enabled=False, manual_replica_enabled=True)
    response = await agent.post("issue-switch-command", {"target_mode": "ondemand"})
    assert response.status_code == 403
    assert response.json()["detail"] == {
        "code": "setting_disabled",
        "setting": "auto_switch_enabled",
        "reason": "auto_switch_disabled",
    }
    await change_agent(agent, enabled=False)
    assert (await agent.post("issue-switch-command", {"target_mode": "ondemand"})).json()["detail"][
        "setting"
    ] == "enabled"


async def test_a14_cm6_open_episode_is_409_emergency_in_progress(agent: Agent) -> None:
    async with database(agent.settings) as uow:
        stored = await uow.agents.get(ClientId(agent.client_id), agent.agent_id)
        assert stored is not None
        await uow.episodes.add(open_episode(stored))
        await uow.commit()
    response = await agent.post("issue-switch-command", {"target_mode": "ondemand"})
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "emergency_in_progress"


async def test_a14_g3_cooldown_is_409_with_retry_after(agent: Agent) -> None:
    await change_agent(agent, last_failover_at=NOW - timedelta(minutes=10))
    response = await agent.post("issue-switch-command", {"target_mode": "ondemand"})
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "cooldown"
    assert response.json()["detail"]["retry_after"] == "2026-11-28T09:20:00Z"


async def test_a14_cm2_second_switch_supersedes_and_delivered_one_blocks(agent: Agent) -> None:
    first = (await agent.post("issue-switch-command", {"target_mode": "ondemand"})).json()["command"]
    second = await agent.post("issue-switch-command", {"target_mode": "spot", "target_pool_id": CHEAP})
    assert second.status_code == 201
    assert second.json()["command"]["superseded_command_id"] == first["id"]
    polled = await agent.client.get(f"/api/agents/{agent.agent_id}/pending-commands", headers=agent.headers)
    assert polled.json()["commands"][0]["id"] == second.json()["command"]["id"]
    blocked = await agent.post("issue-switch-command", {"target_mode": "ondemand", "priority": 75})
    assert blocked.status_code == 409
    assert blocked.json()["detail"] == {"code": "switch_in_flight", "command_id": second.json()["command"]["id"]}


class Contention:
    """How many of the next commits meet a deadlock (CC-5)."""

    def __init__(self) -> None:
        self.pending = 0


class ContendedUnitOfWork(SqlAlchemyUnitOfWork):
    def __init__(self, session: AsyncSession, contention: Contention) -> None:
        super().__init__(session)
        self._contention = contention

    async def commit(self) -> None:
        if self._contention.pending:
            self._contention.pending -= 1
            await self.flush()  # the attempt's writes are in the transaction, as a deadlock at COMMIT finds them
            raise LockContentionError
        await super().commit()


class ContendedCommits(Provider):
    def __init__(self, contention: Contention) -> None:
        super().__init__()
        self._contention = contention

    @provide(scope=Scope.REQUEST, override=True)
    def uow(self, session: AsyncSession) -> UnitOfWork:
        return ContendedUnitOfWork(session, self._contention)


def rows(agent: Agent, table: str) -> int:
    with sqlite3.connect(agent.settings.data_dir / "spotopt.db") as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {table} WHERE agent_id = ?", (agent.agent_id,)).fetchone()[0])  # noqa: S608


async def test_cc5_a12_a13_lock_contention_reruns_the_decision_in_a_fresh_transaction(tmp_path: Path) -> None:
    contention = Contention()
    async with registered(tmp_path, ContendedCommits(contention)) as agent:
        contention.pending = 2
        decided = await agent.post("decide")
        contention.pending = 1
        recommended = await agent.client.get(
            f"/api/agents/{agent.agent_id}/switch-recommendation", headers=agent.headers
        )

        assert (decided.status_code, recommended.status_code, contention.pending) == (200, 200, 0)
        assert rows(agent, "decisions") == 2  # one per call: the contended attempts were rolled back
        async with database(agent.settings) as uow:
            assert await uow.decisions.get(decided.json()["id"]) is not None


async def test_cc5_a14_lock_contention_reruns_the_command_and_exhaustion_is_503_retryable(tmp_path: Path) -> None:
    contention = Contention()
    async with registered(tmp_path, ContendedCommits(contention)) as agent:
        contention.pending = 3
        created = await agent.post("issue-switch-command", {"target_mode": "ondemand", "idempotency_key": "k1"})
        assert (created.status_code, created.json()["created"]) == (201, True)
        assert rows(agent, "commands") == 1

        contention.pending = 4
        exhausted = await agent.post("issue-switch-command", {"target_mode": "spot", "target_pool_id": CHEAP})
        assert exhausted.status_code == 503
        assert exhausted.json()["detail"] == {"code": "unavailable", "dependency": "database", "retryable": True}
        assert rows(agent, "commands") == 1
