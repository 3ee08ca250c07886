"""The auth guard's token cache (api.md §1.2): CL-1 (rotation) and CL-2 (inactive client) still hold.

In this process a rotation or deactivation evicts at once (through the SQL adapter, on a real database); another
process, with a cache of its own, stops accepting the old token within the cache's TTL (the stated bound).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from spotopt.adapters.token_cache import InProcessTokenCache
from spotopt.application.errors import AuthenticationError, ForbiddenError
from spotopt.application.ports.token_cache import TokenCache
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.system.authenticate import Authenticate, AuthenticateQuery, EnvAdminToken, Realm
from spotopt.domain.shared.ids import ClientId
from tests.factories.agents import make_client
from tests.fakes.clients import StubTokenHasher
from tests.fakes.uow import InMemoryUnitOfWork
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database
from tests.services import sqlite_url

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TTL = 5.0
PROBE = "/api/agents/no-such-agent/config"  # authenticated → 404 not found; rejected → 401/403


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _auth(uow: InMemoryUnitOfWork, cache: InProcessTokenCache) -> Authenticate:
    return Authenticate(uow, StubTokenHasher(), EnvAdminToken(None), cache)


async def _seed(uow: InMemoryUnitOfWork, token: str) -> ClientId:
    client = make_client(token_hash=StubTokenHasher().hash(token))
    await uow.clients.add(client)
    await uow.commit_setup()
    return client.client_id


async def test_cl1_a_token_rotated_by_another_process_stops_working_within_the_ttl() -> None:
    uow, ticks = InMemoryUnitOfWork(), Ticks()
    client_id = await _seed(uow, "old-token")
    other_process = _auth(uow, InProcessTokenCache(TTL, monotonic=ticks))
    query = AuthenticateQuery(token="old-token", realm=Realm.CLIENT)
    assert (await other_process.execute(query)).client_id == client_id

    stored = await uow.clients.get(client_id)
    assert stored is not None
    stored.rotate_token(StubTokenHasher().hash("new-token"), "oken", datetime.now(UTC))
    await uow.commit_setup()  # committed by a process whose cache is not this one

    ticks.now += TTL - 0.01
    assert (await other_process.execute(query)).client_id == client_id  # the stated bound: within the TTL
    ticks.now += 0.02
    with pytest.raises(AuthenticationError) as rejected:
        await other_process.execute(query)
    assert rejected.value.code == "invalid_token"
    assert (await other_process.execute(AuthenticateQuery(token="new-token", realm=Realm.CLIENT))).client_id


async def test_cl2_an_inactive_client_is_never_cached_and_a_cached_token_keeps_its_realm() -> None:
    uow, ticks = InMemoryUnitOfWork(), Ticks()
    client_id = await _seed(uow, "tok")
    cache = InProcessTokenCache(TTL, monotonic=ticks)
    auth = _auth(uow, cache)
    stored = await uow.clients.get(client_id)
    assert stored is not None
    stored.deactivate(datetime.now(UTC))
    await uow.commit_setup()
    for _ in range(2):
        with pytest.raises(ForbiddenError) as inactive:
            await auth.execute(AuthenticateQuery(token="tok", realm=Realm.CLIENT))
        assert inactive.value.code == "client_inactive"
    assert cache.get(StubTokenHasher().hash("tok")) is None

    active_id = await _seed(uow, "tok2")
    await auth.execute(AuthenticateQuery(token="tok2", realm=Realm.CLIENT))
    assert cache.get(StubTokenHasher().hash("tok2")) == active_id
    with pytest.raises(ForbiddenError) as realm:
        await auth.execute(AuthenticateQuery(token="tok2", realm=Realm.ADMIN))
    assert realm.value.code == "wrong_realm"


def test_a_zero_ttl_disables_the_cache_and_entries_expire() -> None:
    ticks = Ticks()
    off = InProcessTokenCache(0, monotonic=ticks)
    off.put("d", ClientId("c"))
    assert off.get("d") is None
    on = InProcessTokenCache(1.0, monotonic=ticks)
    on.put("d", ClientId("c"))
    assert on.get("d") == "c"
    ticks.now += 1.0
    assert on.get("d") is None


def _count_client_lookups(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    def on_statement(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM clients" in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
    return seen


async def test_cl1_rotation_in_this_process_rejects_the_old_token_at_once(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    async with app_client(settings) as client:
        created = (await client.post("/api/admin/clients/create", json={"name": "Acme"}, headers=ADMIN)).json()
        client_id, old = created["client"]["id"], created["client_token"]
        old_headers = {"Authorization": f"Bearer {old}"}
        engine = await client.app.state.dishka_container.get(AsyncEngine)
        lookups = _count_client_lookups(engine)
        assert (await client.get(PROBE, headers=old_headers)).status_code == 404
        assert (await client.get(PROBE, headers=old_headers)).status_code == 404
        by_token = [sql for sql in lookups if "token_hash" in sql]
        assert len(by_token) == 1, by_token  # the second request was answered from the cache

        rotated = await client.post(f"/api/admin/clients/{client_id}/regenerate-token", headers=ADMIN)
        assert rotated.status_code == 200
        stale = await client.get(PROBE, headers=old_headers)
        assert stale.status_code == 401
        assert stale.json()["detail"]["code"] == "invalid_token"
        new_headers = {"Authorization": f"Bearer {rotated.json()['client_token']}"}
        assert (await client.get(PROBE, headers=new_headers)).status_code == 404


async def test_cl2_deactivation_in_this_process_evicts_the_cached_token_at_once(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    async with app_client(settings) as client:
        created = (await client.post("/api/admin/clients/create", json={"name": "Acme"}, headers=ADMIN)).json()
        client_id, headers = created["client"]["id"], {"Authorization": f"Bearer {created['client_token']}"}
        assert (await client.get(PROBE, headers=headers)).status_code == 404
        container = client.app.state.dishka_container
        cache = await container.get(TokenCache)
        assert cache.get(StubTokenHasher().hash(created["client_token"])) == client_id

        async with container() as scope:
            uow = await scope.get(UnitOfWork)
            stored = await uow.clients.get(ClientId(client_id))
            assert stored is not None
            stored.deactivate(datetime.now(UTC))
            await uow.commit()

        inactive = await client.get(PROBE, headers=headers)
        assert inactive.status_code == 403
        assert inactive.json()["detail"]["code"] == "client_inactive"
