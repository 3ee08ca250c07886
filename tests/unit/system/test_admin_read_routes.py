"""M4, M6, M8 – M12 over HTTP: the real app on SQLite with a fixed clock (api.md §7, §1.8, A.2, A.3, A.11)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from dishka import Provider, Scope, provide
from litestar.testing import AsyncTestClient

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.ports.system import Clock
from spotopt.bootstrap.settings import Settings
from spotopt.domain.agents.values import Liveness
from spotopt.domain.ledger.snapshots import ClientGrowthSnapshot
from spotopt.domain.shared.ids import ClientId
from tests.fakes.system import FixedClock
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database
from tests.services import sqlite_url

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
DATABASE_URL = sqlite_url  # the MariaDB run (tests/integration/http) swaps in the test database
INSTANCES = {"web-1": "i-0a1b2c3d4e5f67890", "webx2": "i-0b1b2c3d4e5f67890", "web_2": "i-0c1b2c3d4e5f67890"}


class ClockProvider(Provider):
    def __init__(self, clock: FixedClock) -> None:
        super().__init__()
        self._clock = clock

    @provide(scope=Scope.APP, override=True)
    def clock(self) -> Clock:
        return self._clock


@dataclass
class Fleet:
    http: AsyncTestClient  # type: ignore[type-arg]
    settings: Settings
    clock: FixedClock
    clients: dict[str, dict[str, Any]]  # name → M1 answer
    agents: dict[str, str]  # logical id → agent id

    async def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers=ADMIN if headers is None else headers)


@asynccontextmanager
async def uow_of(settings: Settings) -> AsyncIterator[SqlAlchemyUnitOfWork]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            yield SqlAlchemyUnitOfWork(session)
    finally:
        await engine.dispose()


@asynccontextmanager
async def fleet(tmp_path: Path) -> AsyncIterator[Fleet]:
    """Acme runs web-1, webx2 and web_2; Beta runs db-1."""
    settings = make_settings(DATABASE_URL(tmp_path), tmp_path)
    reset_database(settings)
    clock = FixedClock(NOW)
    async with app_client(settings, ClockProvider(clock)) as http:
        clients, agents = {}, {}
        for name, logical_ids in (("Acme", ["web-1", "webx2", "web_2"]), ("Beta", ["db-1"])):
            created = await http.post("/api/admin/clients/create", json={"name": name}, headers=ADMIN)
            clients[name] = created.json()
            token = {"Authorization": f"Bearer {created.json()['client_token']}"}
            for logical in logical_ids:
                clock.advance(seconds=1)
                body = {
                    "logical_agent_id": logical,
                    "instance_id": INSTANCES.get(logical, "i-0d1b2c3d4e5f67890"),
                    "instance_type": "t3.medium",
                    "region": "us-east-1" if name == "Acme" else "eu-west-1",
                    "az": "us-east-1a" if name == "Acme" else "eu-west-1b",
                    "mode": "spot",
                    "hostname": f"{logical}.internal",
                }
                registered = await http.post("/api/agents/register", json=body, headers=token)
                assert registered.status_code == 201, registered.text
                agents[logical] = registered.json()["agent_id"]
        yield Fleet(http, settings, clock, clients, agents)


def client_token(f: Fleet, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {f.clients[name]['client_token']}"}


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    code: str = response.json()["detail"]["code"]
    return code


async def test_admin_reads_are_admin_realm_only(tmp_path: Path) -> None:
    async with fleet(tmp_path) as f:
        acme = f.clients["Acme"]["client"]["id"]
        paths = [
            f"/api/admin/clients/{acme}/token",
            "/api/admin/clients/growth",
            "/api/admin/instances",
            "/api/admin/agents",
            "/api/admin/activity",
            "/api/admin/system-health",
            "/api/admin/search?q=acme",
        ]
        for path in paths:
            assert error_code(await f.http.get(path), 401) == "missing_token"
            assert error_code(await f.http.get(path, headers=client_token(f, "Acme")), 403) == "wrong_realm"
            assert (await f.http.get(path, headers=ADMIN)).status_code == 200


async def test_m4_token_metadata_never_carries_the_token(tmp_path: Path) -> None:
    async with fleet(tmp_path) as f:
        created = f.clients["Acme"]
        answer = await f.get(f"/api/admin/clients/{created['client']['id']}/token")
        unknown = await f.get("/api/admin/clients/nope/token")

    body = answer.json()
    assert body == {
        "client_id": created["client"]["id"],
        "token_hint": created["client_token"][-4:],
        "token_issued_at": created["client"]["token_issued_at"],
        "retrievable": False,
        "message": "Tokens are shown only at creation and rotation; use regenerate-token to issue a new one",
    }
    assert created["client_token"] not in answer.text
    assert error_code(unknown, 404) == "not_found"


async def test_m9_lists_every_clients_agents_newest_heartbeat_first_with_filters(tmp_path: Path) -> None:
    async with fleet(tmp_path) as f:
        async with uow_of(f.settings) as uow:
            acme = ClientId(f.clients["Acme"]["client"]["id"])
            web1 = await uow.agents.get(acme, f.agents["web-1"])
            webx2 = await uow.agents.get(acme, f.agents["webx2"])
            assert web1 is not None
            assert webx2 is not None
            web1.last_heartbeat_at = NOW + timedelta(seconds=30)
            webx2.last_heartbeat_at = None
            webx2.liveness = Liveness.OFFLINE
            await uow.commit()
        f.clock.current = NOW + timedelta(seconds=90)
        everything = (await f.get("/api/admin/agents")).json()
        only_beta = (await f.get("/api/admin/agents", client_id=f.clients["Beta"]["client"]["id"])).json()
        offline = (await f.get("/api/admin/agents", status="offline")).json()
        second_page = (await f.get("/api/admin/agents", limit=1, offset=1)).json()
        bad_status = await f.get("/api/admin/agents", status="sleepy")
        bad_limit = await f.get("/api/admin/agents", limit=501)

    logical = [a["logical_agent_id"] for a in everything["agents"]]
    assert everything["total"] == 4
    assert logical[0] == "web-1"  # newest heartbeat first, never seen last
    assert logical[-1] == "webx2"
    first = everything["agents"][0]
    assert (first["client_name"], first["status"], first["instance_id"]) == ("Acme", "online", INSTANCES["web-1"])
    assert (first["last_heartbeat_at"], first["seconds_since_heartbeat"]) == ("2026-11-28T09:00:30Z", 60)
    assert everything["agents"][-1]["seconds_since_heartbeat"] is None
    assert set(first["thresholds"]) == {
        "min_savings_percent",
        "risk_threshold",
        "max_switches_per_day",
        "max_switches_per_week",
        "min_pool_duration_hours",
        "cooldown_minutes",
    }
    assert [a["logical_agent_id"] for a in only_beta["agents"]] == ["db-1"]
    assert (offline["total"], offline["agents"][0]["logical_agent_id"]) == (1, "webx2")
    assert second_page["total"] == 4
    assert [a["id"] for a in second_page["agents"]] == [everything["agents"][1]["id"]]
    assert error_code(bad_status, 400) == "validation_error"
    assert bad_status.json()["detail"]["field"] == "status"
    assert error_code(bad_limit, 400) == "validation_error"


async def test_m8_lists_every_clients_instances_with_client_and_agent_names(tmp_path: Path) -> None:
    async with fleet(tmp_path) as f:
        everything = (await f.get("/api/admin/instances")).json()
        europe = (await f.get("/api/admin/instances", region="eu-west-1")).json()
        acme = (await f.get("/api/admin/instances", client_id=f.clients["Acme"]["client"]["id"], role="primary")).json()
        terminated = (await f.get("/api/admin/instances", role="terminated")).json()
        bad_role = await f.get("/api/admin/instances", role="boss")

    assert everything["total"] == 4
    newest = everything["instances"][0]
    assert (newest["client_name"], newest["logical_agent_id"], newest["role"]) == ("Beta", "db-1", "primary")
    assert newest["is_active"] is True
    assert newest["pool_id"] == "t3.medium.eu-west-1b"
    assert [i["logical_agent_id"] for i in europe["instances"]] == ["db-1"]
    assert acme["total"] == 3
    assert {i["client_name"] for i in acme["instances"]} == {"Acme"}
    assert terminated == {"instances": [], "total": 0}
    assert error_code(bad_role, 400) == "validation_error"


async def test_m10_lists_system_events_of_the_window_newest_first(tmp_path: Path) -> None:
    async with fleet(tmp_path) as f:
        beta = f.clients["Beta"]["client"]["id"]
        everything = (await f.get("/api/admin/activity")).json()
        for_beta = (await f.get("/api/admin/activity", client_id=beta, type="agent_registered")).json()
        critical = (await f.get("/api/admin/activity", severity="critical")).json()
        bad_days = await f.get("/api/admin/activity", days=0)
        too_many_days = await f.get("/api/admin/activity", days=366)
        bad_severity = await f.get("/api/admin/activity", severity="loud")

    events = everything["activity"]
    assert everything["total"] == len(events) >= 6
    assert [e["created_at"] for e in events] == sorted((e["created_at"] for e in events), reverse=True)
    assert set(events[0]) == {"id", "type", "severity", "client_id", "agent_id", "instance_id", "message", "metadata",
                              "created_at"}  # fmt: skip
    assert all(isinstance(e["metadata"], dict) for e in events)
    assert for_beta["total"] == 1
    assert for_beta["activity"][0]["agent_id"] == f.agents["db-1"]
    assert critical == {"activity": [], "total": 0}
    for bad in (bad_days, too_many_days, bad_severity):
        assert error_code(bad, 400) == "validation_error"


async def test_m11_reports_jobs_counts_and_the_engine(tmp_path: Path) -> None:
    async with fleet(tmp_path) as f:
        health = (await f.get("/api/admin/system-health")).json()
        f.clock.advance(minutes=10)
        later = (await f.get("/api/admin/system-health")).json()

    assert health["database"] == "ok"
    assert health["background_jobs"] == "disabled"  # the test settings switch jobs off, as H1 reports them
    assert (health["stale_agents"], health["failed_replicas_24h"], health["open_episodes"]) == (0, 0, 0)
    names = [j["name"] for j in health["jobs"]]
    assert "monitor_agent_health" in names
    assert "accrue_ledger" in names
    monitor = health["jobs"][names.index("monitor_agent_health")]
    assert monitor == {
        "name": "monitor_agent_health",
        "schedule": "every 30 s",
        "last_tick": None,
        "last_status": None,
        "last_duration_ms": None,
        "next_tick": "2026-11-28T09:00:30Z",
    }
    assert later["stale_agents"] == 4  # online, last heartbeat more than 120 s ago: the health monitor lags
    assert health["decision_engine"]["engine_kind"] == "rules"
    assert health["decision_engine"]["fallback_active"] is False


async def test_m12_search_is_literal_case_insensitive_and_ranks_exact_ids_first(tmp_path: Path) -> None:
    async with fleet(tmp_path) as f:
        acme = f.clients["Acme"]["client"]["id"]
        underscore = (await f.get("/api/admin/search", q="B_2")).json()
        percent = (await f.get("/api/admin/search", q="%%")).json()
        by_id = (await f.get("/api/admin/search", q=acme.upper())).json()
        webs = (await f.get("/api/admin/search", q="web", type="agent", limit=1)).json()
        instance = (await f.get("/api/admin/search", q="i-0c1b")).json()
        too_short = await f.get("/api/admin/search", q="w")
        missing = await f.get("/api/admin/search")
        bad_type = await f.get("/api/admin/search", q="web", type="planet")

    assert [(r["type"], r["label"]) for r in underscore["results"]] == [("agent", "web_2")]
    assert underscore["results"][0]["matched_field"] == "logical_agent_id"
    assert percent == {"query": "%%", "results": [], "total": 0}
    assert by_id["results"][0] == {
        "type": "client",
        "id": acme,
        "label": "Acme",
        "client_id": acme,
        "client_name": "Acme",
        "agent_id": None,
        "matched_field": "id",
        "status": "active",
    }
    assert webs["total"] == 3
    assert [r["label"] for r in webs["results"]] == ["web-1"]  # label order; "-" sorts first in every collation
    assert {r["status"] for r in webs["results"]} == {"online"}
    assert [(r["type"], r["status"], r["agent_id"]) for r in instance["results"]] == [
        ("instance", "primary", f.agents["web_2"])
    ]
    for bad, field in ((too_short, "q"), (missing, "q"), (bad_type, "type")):
        assert error_code(bad, 400) == "validation_error"
        assert bad.json()["detail"]["field"] == field


async def test_m6_growth_lists_the_snapshots_of_the_last_days_up_to_yesterday(tmp_path: Path) -> None:
    async with fleet(tmp_path) as f:
        async with uow_of(f.settings) as uow:
            for offset, active in ((3, None), (2, 2), (0, 2)):  # no snapshot for D-1; today's is not shown
                day = date(2026, 11, 28) - timedelta(days=offset)
                snapshot = ClientGrowthSnapshot(
                    day=day, total_clients=2, new_clients=1, active_clients=active, computed_at=NOW
                )
                await uow.snapshots.add_growth(snapshot)
            await uow.commit()
        two = (await f.get("/api/admin/clients/growth", days=2)).json()
        default = (await f.get("/api/admin/clients/growth")).json()
        bad = await f.get("/api/admin/clients/growth", days=400)

    assert two == {
        "days": 2,
        "growth": [{"date": "2026-11-26", "total_clients": 2, "new_clients": 1, "active_clients": 2}],
    }
    assert default["days"] == 30
    assert [g["date"] for g in default["growth"]] == ["2026-11-25", "2026-11-26"]
    assert default["growth"][0]["active_clients"] is None
    assert error_code(bad, 400) == "validation_error"
