"""An HTTP world for the client write routes: the real app on SQLite, a fixed clock, tenants with one agent each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from dishka import Provider, Scope, provide
from litestar.testing import AsyncTestClient

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.ports.system import Clock
from spotopt.bootstrap.settings import Settings
from spotopt.domain.pricing.market import OnDemandPrice, SpotPool
from tests.factories.replica_world import make_bucket
from tests.fakes.system import FixedClock
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database
from tests.services import sqlite_url

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PRIMARY = "i-0a1b2c3d4e5f67890"
OTHER_PRIMARY = "i-0fedcba9876543210"
POOLS = {
    "t3.medium.us-east-1a": "0.0131",
    "t3.medium.us-east-1b": "0.0100",
    "t3.medium.us-east-1c": "0.0125",
}


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


async def seed_market(settings: Settings) -> None:
    async with database(settings) as uow:
        for pool_id, price in POOLS.items():
            az = pool_id.rpartition(".")[2]
            await uow.pricing.add_pool(SpotPool(pool_id, "t3.medium", "us-east-1", az, NOW - timedelta(days=2), NOW))
            await uow.buckets.save([make_bucket(pool_id, Decimal(price), NOW - timedelta(minutes=5))])
        await uow.pricing.add_ondemand(OnDemandPrice("t3.medium", "us-east-1", Decimal("0.0416"), "catalogue", NOW))
        await uow.commit()


@dataclass
class Tenant:
    http: AsyncTestClient  # type: ignore[type-arg]
    client_id: str
    agent_id: str
    headers: dict[str, str]

    async def call(self, method: str, path: str, body: object = None) -> httpx.Response:
        content = None if body is None else httpx.Request("POST", "/", json=body).content
        return await self.http.request(method, path, content=content, headers=self.headers)

    async def post(self, path: str, body: object = None) -> httpx.Response:
        return await self.call("POST", path, body if body is not None else {})

    async def get(self, path: str) -> httpx.Response:
        return await self.call("GET", path)


@dataclass
class World:
    http: AsyncTestClient  # type: ignore[type-arg]
    settings: Settings
    clock: FixedClock
    acme: Tenant
    other: Tenant


async def add_tenant(http: AsyncTestClient, name: str, instance_id: str) -> Tenant:  # type: ignore[type-arg]
    created = (await http.post("/api/admin/clients/create", json={"name": name}, headers=ADMIN)).json()
    headers = {"Authorization": f"Bearer {created['client_token']}", "Content-Type": "application/json"}
    body = {
        "logical_agent_id": f"{name}-web", "instance_id": instance_id, "instance_type": "t3.medium",
        "region": "us-east-1", "az": "us-east-1a", "mode": "spot", "hostname": f"{name}.example",
    }  # fmt: skip
    registered = await http.post("/api/agents/register", json=body, headers=headers)
    assert registered.status_code == 201, registered.text
    return Tenant(http, created["client"]["id"], registered.json()["agent_id"], headers)


@asynccontextmanager
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    await seed_market(settings)
    clock = FixedClock(NOW)
    async with app_client(settings, ClockProvider(clock)) as http:
        acme = await add_tenant(http, "acme", PRIMARY)
        other = await add_tenant(http, "globex", OTHER_PRIMARY)
        yield World(http, settings, clock, acme, other)


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "status_code", "detail"}
    assert body["detail"]["code"] == code, body
    return body["detail"]  # type: ignore[no-any-return]
