"""R1 – R9 and A10 over HTTP: the real app on SQLite with a fixed clock (api.md §4, A.4, §1.5, §1.9; agent v4
W20, W26 – W38).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from dishka import Provider, Scope, provide
from litestar.testing import AsyncTestClient

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.ports.system import Clock
from spotopt.bootstrap.settings import Settings
from spotopt.domain.pricing.market import OnDemandPrice, SpotPool
from spotopt.domain.shared.ids import ClientId
from tests.factories.replica_world import make_bucket
from tests.fakes.system import FixedClock
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database
from tests.services import sqlite_url

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PRIMARY = "i-0a1b2c3d4e5f67890"
STANDBY = "i-07c1d2e3f4a5b6c7d"
POOLS = {
    "t3.medium.us-east-1a": "0.0131",
    "t3.medium.us-east-1b": "0.0100",
    "t3.medium.us-east-1c": "0.0125",
    "t3.medium.us-east-1d": "0.0112",
}
REPLICA_KEYS = {
    "id", "agent_id", "kind", "status", "pool_id", "az", "pool", "instance_type", "region", "instance_id",
    "parent_instance_id", "episode_id", "created_by", "sync_status", "state_transfer_progress", "sync_latency_ms",
    "last_sync_at", "hourly_price_at_creation", "launch_claims", "launch_lease_expires_at", "degraded_promotion",
    "is_active", "termination_reason", "failure_reason", "tags", "created_at", "launched_at", "sync_started_at",
    "ready_at", "promoted_at", "terminated_at", "termination_confirmed_at", "failed_at", "age_seconds",
}  # fmt: skip


class ClockProvider(Provider):
    def __init__(self, clock: FixedClock) -> None:
        super().__init__()
        self._clock = clock

    @provide(scope=Scope.APP, override=True)
    def clock(self) -> Clock:
        return self._clock


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[SqlAlchemyUnitOfWork]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            yield SqlAlchemyUnitOfWork(session)
    finally:
        await engine.dispose()


async def seed_market(settings: Settings, pools: dict[str, str]) -> None:
    async with database(settings) as uow:
        for pool_id, price in pools.items():
            az = pool_id.rpartition(".")[2]
            await uow.pricing.add_pool(SpotPool(pool_id, "t3.medium", "us-east-1", az, NOW - timedelta(days=2), NOW))
            await uow.buckets.save([make_bucket(pool_id, Decimal(price), NOW - timedelta(minutes=5))])
        await uow.pricing.add_ondemand(OnDemandPrice("t3.medium", "us-east-1", Decimal("0.0416"), "catalogue", NOW))
        await uow.commit()


@dataclass
class Agent:
    client: AsyncTestClient  # type: ignore[type-arg]
    settings: Settings
    clock: FixedClock
    client_id: str
    agent_id: str
    headers: dict[str, str]

    async def call(self, method: str, route: str, body: object = None) -> httpx.Response:
        content = None if body is None else httpx.Request("POST", "/", json=body).content
        return await self.client.request(
            method, f"/api/agents/{self.agent_id}/{route}", content=content, headers=self.headers
        )

    async def post(self, route: str, body: object = None) -> httpx.Response:
        return await self.call("POST", route, body if body is not None else {})


@asynccontextmanager
async def running(
    tmp_path: Path, *, pools: dict[str, str] | None = None, manual: bool = False, **settings_overrides: object
) -> AsyncIterator[Agent]:
    settings = make_settings(sqlite_url(tmp_path), tmp_path, **settings_overrides)
    reset_database(settings)
    await seed_market(settings, POOLS if pools is None else pools)
    clock = FixedClock(NOW)
    async with app_client(settings, ClockProvider(clock)) as client:
        created = (await client.post("/api/admin/clients/create", json={"name": "Acme"}, headers=ADMIN)).json()
        headers = {"Authorization": f"Bearer {created['client_token']}", "Content-Type": "application/json"}
        body = {
            "logical_agent_id": "web-1", "instance_id": PRIMARY, "instance_type": "t3.medium", "region": "us-east-1",
            "az": "us-east-1a", "mode": "spot",
        }  # fmt: skip
        registered = await client.post("/api/agents/register", json=body, headers=headers)
        assert registered.status_code == 201
        agent = Agent(client, settings, clock, created["client"]["id"], registered.json()["agent_id"], headers)
        if manual:
            await change_agent(agent, auto_switch_enabled=False, manual_replica_enabled=True)
        yield agent


async def change_agent(agent: Agent, **values: Any) -> None:
    async with database(agent.settings) as uow:
        stored = await uow.agents.get(ClientId(agent.client_id), agent.agent_id)
        assert stored is not None
        for name, value in values.items():
            setattr(stored, name, value)
        await uow.commit()


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict)
    assert body["success"] is (status != 202)
    return body


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "status_code", "detail"}
    assert body["detail"]["code"] == code
    return body["detail"]  # type: ignore[no-any-return]


async def test_w26_w27_r1_register_form_then_status_reports(tmp_path: Path) -> None:
    async with running(tmp_path, manual=True) as agent:
        body = {
            "instance_id": STANDBY, "replica_type": "manual", "parent_instance_id": PRIMARY,
            "pool_id": "t3.medium.us-east-1c", "status": "launching",
        }  # fmt: skip
        created = ok(await agent.post("replicas", body), 201)
        assert set(created) == REPLICA_KEYS | {"success", "created", "replica_id"}
        assert (created["created"], created["status"], created["sync_status"], created["created_by"]) == (
            True,
            "syncing",
            "syncing",
            "agent",
        )
        assert created["replica_id"] == created["id"]
        assert created["pool"]["name"] == "t3.medium (us-east-1c)"
        assert (created["launched_at"], created["age_seconds"], created["hourly_price_at_creation"]) == (
            "2026-11-28T09:00:00Z",
            0,
            0.0125,
        )
        again = ok(await agent.post("replicas", body))
        assert (again["created"], again["replica_id"]) == (False, created["replica_id"])
        replica = created["replica_id"]
        same = ok(
            await agent.post(
                f"replicas/{replica}/status", {"status": "syncing", "sync_started_at": "2026-11-28T09:00:01Z"}
            )
        )
        assert (same["status"], same["previous_status"]) == ("syncing", "syncing")
        ready = ok(
            await agent.post(
                f"replicas/{replica}/status",
                {"status": "ready", "sync_completed_at": "2026-11-28T09:41:05.337120+00:00"},
            )
        )
        assert ready == {"success": True, "replica_id": replica, "status": "ready", "previous_status": "syncing"}
        assert ok(await agent.post(f"replicas/{replica}/status", {"status": "ready"}))["previous_status"] == "ready"


async def test_w28_w35_rebalance_replica_is_claimed_attached_and_made_ready(tmp_path: Path) -> None:
    async with running(tmp_path) as agent:
        signal = {"signal_type": "rebalance-recommendation", "instance_id": PRIMARY}
        created = ok(await agent.post("create-emergency-replica", signal), 201)
        assert set(created) >= REPLICA_KEYS | {
            "replica_instance_id",
            "urgency",
            "episode_id",
            "episode_state",
            "action",
        }
        assert (created["urgency"], created["episode_state"], created["action"], created["instance_id"]) == (
            "high",
            "at_risk",
            "standby_preparing",
            None,
        )
        assert (created["kind"], created["pool_id"], created["az"]) == (
            "automatic-rebalance",
            "t3.medium.us-east-1b",
            "us-east-1b",
        )
        a10 = ok(
            await agent.post(
                "rebalance-recommendation", {"instance_id": PRIMARY, "detected_at": "2026-11-28T09:00:01Z"}
            )
        )
        assert a10 == {
            "success": True, "action": "standby_preparing", "episode_id": created["episode_id"],
            "episode_state": "at_risk", "replica_id": created["replica_id"], "replica_status": "launching",
            "pool_id": "t3.medium.us-east-1b", "attributed_role": "primary",
        }  # fmt: skip
        claim = ok(await agent.call("GET", "replicas?status=launching"))
        assert claim["total"] == 1
        assert [r["id"] for r in claim["replicas"]] == [created["replica_id"]]
        item = claim["replicas"][0]
        assert item["instance_id"] is None
        assert item["pool_id"]
        assert item["az"]
        assert item["launch_claims"] == 1
        assert item["launch_lease_expires_at"] == "2026-11-28T09:03:00Z"
        assert ok(await agent.call("GET", "replicas?status=launching"))["replicas"] == []  # W30
        path = f"replicas/{created['replica_id']}"
        attached = ok(await agent.call("PUT", path, {"instance_id": STANDBY, "status": "syncing"}))
        assert attached == {
            "success": True,
            "replica_id": created["replica_id"],
            "instance_id": STANDBY,
            "status": "syncing",
        }
        assert ok(await agent.call("PUT", path, {"instance_id": STANDBY, "status": "syncing"}))["status"] == "syncing"
        ok(await agent.post(f"{path}/status", {"status": "ready"}))
        assert ok(await agent.post("rebalance-recommendation", {"instance_id": PRIMARY}))["action"] == "standby_ready"


async def test_w33_w36_w38_notice_promotes_and_termination_imminent_replays(tmp_path: Path) -> None:
    async with running(tmp_path) as agent:
        created = ok(
            await agent.post(
                "create-emergency-replica", {"signal_type": "rebalance-recommendation", "instance_id": PRIMARY}
            ),
            201,
        )
        path = f"replicas/{created['replica_id']}"
        ok(await agent.call("PUT", path, {"instance_id": STANDBY, "status": "ready"}))
        notice = {
            "signal_type": "termination-notice",
            "instance_id": PRIMARY,
            "termination_time": "2026-11-28T09:02:00Z",
        }
        promoted = ok(await agent.post("create-emergency-replica", notice))
        assert (promoted["action"], promoted["status"], promoted["episode_state"], promoted["created"]) == (
            "replica_promoted",
            "promoted",
            "failed_over",
            False,
        )
        assert (promoted["urgency"], promoted["replica_instance_id"]) == ("critical", STANDBY)
        imminent = {
            "instance_id": PRIMARY,
            "termination_time": "2026-11-28T09:02:00Z",
            "detected_at": "2026-11-28T09:00:00.412877+00:00",
        }
        first = ok(await agent.post("termination-imminent", imminent))
        assert first == {
            "success": True, "action": "replica_promoted", "message": "Automatic failover completed",
            "new_instance_id": STANDBY, "old_instance_id": PRIMARY, "replica_id": created["replica_id"],
            "episode_id": created["episode_id"], "deadline": "2026-11-28T09:02:00Z", "failover_ms": 0, "degraded": False,
        }  # fmt: skip
        agent.clock.advance(seconds=2)
        assert ok(await agent.post("termination-imminent", imminent)) == first


async def test_w20_w37_notice_without_replica_is_202_and_the_next_poll_hands_out_the_fallback(tmp_path: Path) -> None:
    async with running(tmp_path, pools={"t3.medium.us-east-1a": "0.0131"}) as agent:
        answer = ok(await agent.post("termination-imminent", {"instance_id": PRIMARY}), 202)
        assert (answer["success"], answer["action"], answer["replica_id"]) == (False, "ondemand_fallback_queued", None)
        assert answer["deadline"] == "2026-11-28T09:02:00Z"
        assert answer["command_id"]
        polled = ok(await agent.call("GET", "pending-commands"))["commands"]
        assert [c["id"] for c in polled] == [answer["command_id"]]
        assert (polled[0]["target_mode"], polled[0]["target_pool_id"], polled[0]["priority"]) == ("ondemand", None, 100)
        assert polled[0]["terminate_wait_seconds"] == 0
        detail = error(
            await agent.post("create-emergency-replica", {"signal_type": "termination-notice", "instance_id": PRIMARY}),
            409,
            "no_replica",
        )
        assert (detail["action"], detail["command_id"]) == ("ondemand_fallback_queued", answer["command_id"])


async def test_r9_disabled_agent_without_replica_is_no_action_possible_and_a_standby_signal_not_primary(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, pools={"t3.medium.us-east-1a": "0.0131"}) as agent:
        await change_agent(agent, enabled=False)
        detail = error(await agent.post("termination-imminent", {"instance_id": PRIMARY}), 409, "no_action_possible")
        assert detail["action"] == "no_action_possible"
        unknown = error(await agent.post("termination-imminent", {"instance_id": STANDBY}), 409, "not_primary")
        assert unknown["attributed_role"] == "unknown"
        a10 = ok(await agent.post("rebalance-recommendation", {"instance_id": STANDBY}))
        assert (a10["action"], a10["episode_id"], a10["attributed_role"]) == ("none", None, "unknown")


async def test_r3_r4_promotion_and_retirement_bodies_and_conflicts(tmp_path: Path) -> None:
    async with running(tmp_path, manual=True) as agent:
        replica = ok(await agent.post("replicas", {"instance_id": STANDBY, "pool_id": "t3.medium.us-east-1d"}), 201)[
            "id"
        ]
        not_ready = error(await agent.post(f"replicas/{replica}/promote"), 409, "replica_not_promotable")
        assert not_ready == {"code": "replica_not_promotable", "status": "syncing", "sync_status": "syncing"}
        ok(await agent.post(f"replicas/{replica}/sync-status", {"state_transfer_progress": 100}))
        agent.clock.advance(minutes=5)  # the primary's heartbeat is old: no I4 demotion
        promoted = ok(await agent.post(f"replicas/{replica}/promote", {"demote_old_primary": True}))
        assert promoted == {
            "success": True, "message": "Replica promoted to primary", "replica_id": replica, "new_instance_id": STANDBY,
            "old_instance_id": PRIMARY, "old_instance_role": "kept_old", "demoted_replica_id": None,
            "promoted_at": "2026-11-28T09:05:00Z",
        }  # fmt: skip
        assert ok(await agent.post(f"replicas/{replica}/promote")) == promoted
        assert error(await agent.call("DELETE", f"replicas/{replica}"), 409, "replica_terminal")["status"] == "promoted"
        fresh = ok(await agent.post("replicas"), 201)
        retired = ok(await agent.call("DELETE", f"replicas/{fresh['id']}"))
        assert retired == {
            "success": True, "message": "Replica retired", "replica_id": fresh["id"],
            "terminated_at": "2026-11-28T09:05:00Z", "instance_id": None, "instance_role": None,
        }  # fmt: skip
        assert ok(await agent.call("DELETE", f"replicas/{fresh['id']}")) == retired


async def test_r7_sync_status_body_and_r6_invalid_transition_detail(tmp_path: Path) -> None:
    async with running(tmp_path, manual=True) as agent:
        launch = ok(await agent.post("replicas"), 201)["id"]
        invalid = error(await agent.post(f"replicas/{launch}/status", {"status": "ready"}), 409, "invalid_transition")
        assert invalid == {
            "code": "invalid_transition",
            "from": "launching",
            "to": "ready",
            "reason": "instance_id_required",
        }
        ok(await agent.call("PUT", f"replicas/{launch}", {"instance_id": STANDBY}))
        synced = ok(
            await agent.post(
                f"replicas/{launch}/sync-status",
                {"sync_status": "syncing", "sync_latency_ms": 80, "state_transfer_progress": 42.5},
            )
        )
        assert synced == {
            "success": True, "replica_id": launch, "status": "syncing", "sync_status": "syncing", "sync_latency_ms": 80,
            "state_transfer_progress": 42.5, "last_sync_at": "2026-11-28T09:00:00Z",
        }  # fmt: skip
        error(await agent.post(f"replicas/{launch}/sync-status", {}), 400, "validation_error")
        ok(await agent.post(f"replicas/{launch}/status", {"status": "failed", "error_message": "boom"}))
        error(await agent.post(f"replicas/{launch}/sync-status", {"sync_status": "synced"}), 409, "replica_terminal")


@pytest.mark.parametrize(
    ("method", "route", "body", "status", "code"),
    [
        ("GET", "replicas?status=bogus", None, 400, "validation_error"),
        ("GET", "replicas?limit=0", None, 400, "validation_error"),
        ("GET", "replicas?include_terminated=yes", None, 400, "validation_error"),
        ("POST", "replicas", {"instance_id": "i-123", "pool_id": "t3.medium.us-east-1d"}, 400, "validation_error"),
        ("POST", "replicas", {}, 403, "setting_disabled"),
        ("POST", "replicas", {"instance_id": STANDBY, "pool_id": "t3.medium.us-east-1d"}, 409, "replica_not_allowed"),
        ("POST", "replicas/nope/promote", {}, 404, "not_found"),
        ("DELETE", "replicas/nope", None, 404, "not_found"),
        ("PUT", "replicas/nope", {"instance_id": STANDBY}, 404, "not_found"),
        ("POST", "create-emergency-replica", {"signal_type": "bogus"}, 400, "validation_error"),
        ("POST", "termination-imminent", {"termination_time": "not a time"}, 400, "validation_error"),
    ],
)
async def test_replica_routes_answer_json_errors(
    tmp_path: Path, method: str, route: str, body: object, status: int, code: str
) -> None:
    async with running(tmp_path) as agent:
        error(await agent.call(method, route, body), status, code)


async def test_r_routes_of_an_unknown_agent_are_not_found(tmp_path: Path) -> None:
    async with running(tmp_path) as agent:
        agent.agent_id = "None"
        error(await agent.call("GET", "replicas?status=launching"), 404, "not_found")
        error(await agent.post("termination-imminent", {}), 404, "not_found")
        error(await agent.post("rebalance-recommendation", {}), 404, "not_found")


async def test_r1_request_form_pool_mismatch_is_422(tmp_path: Path) -> None:
    async with running(tmp_path, manual=True) as agent:
        detail = error(await agent.post("replicas", {"pool_id": "t3.medium.us-east-1a"}), 422, "pool_mismatch")
        assert detail["pool_id"] == "t3.medium.us-east-1a"


async def test_w09_r8_r9_a10_are_never_rate_limited(tmp_path: Path) -> None:
    async with running(tmp_path, agent_rate_limit=3) as agent:
        for _ in range(5):
            assert (await agent.post("termination-imminent", {"instance_id": PRIMARY})).status_code != 429
            assert (await agent.post("rebalance-recommendation", {"instance_id": PRIMARY})).status_code == 200
            assert (
                await agent.post("create-emergency-replica", {"signal_type": "rebalance-recommendation"})
            ).status_code != 429
        limited = [(await agent.call("GET", "replicas")).status_code for _ in range(5)]
        assert 429 in limited
