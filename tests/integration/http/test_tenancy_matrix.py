"""Tenancy matrix (api.md §1.2, §1.3; CL-4): every route the router holds, three tenants, the admin token, no token.

Routes are enumerated from the app, so a new route cannot escape: a path parameter the matrix has no id for fails
the test. Each tenant is seeded through the real routes (A1 register, A14 command); its notification
is the one A1's R-1 rule stores; the replica is added through the app's unit of work.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine, select

from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.notifications import NotificationModel
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.ids import ClientId
from spotopt.entrypoints.http.app import create_app
from tests.agent_v4.agent import register_body
from tests.bad_input import ADMIN, Route, api_routes, in_app
from tests.factories.replicas import make_replica
from tests.http_app import make_settings, reset_database
from tests.integration.http.bodies import sample_body
from tests.services import sqlite_url

Http = TestClient[Litestar]
TENANTS = ("alpha", "bravo", "charlie")
PUBLIC = ("/health", "/docs")  # the only routes served without a credential (§1.2 realm "none", the API docs)
# Ids that are fleet-wide, not a tenant's (models, the job dashboard's queues, static files): any value will do.
FLEET_IDS = {"session_id": "fleet-session", "queue": "default", "job": "job-1", "name": "app.js"}


def _tenant(http: Http, name: str, index: int) -> dict[str, str]:
    created = http.post("/api/admin/clients/create", json={"name": name}, headers=ADMIN)
    assert created.status_code == 201, created.text
    token = created.json()["client_token"]
    auth = {"Authorization": f"Bearer {token}"}
    instance_id = f"i-{index:017x}"
    registered = http.post(
        "/api/agents/register", json=register_body(token, instance_id=instance_id, logical_agent_id=name), headers=auth
    )
    assert registered.status_code == 201, registered.text
    agent_id = registered.json()["agent_id"]
    replica_id = in_app(http, lambda uow: _add_replica(uow, ClientId(created.json()["client"]["id"]), agent_id))
    command = http.post(f"/api/agents/{agent_id}/issue-switch-command", json={"target_mode": "ondemand"}, headers=auth)
    assert command.status_code == 201, command.text
    return {
        "token": token,
        "client_id": created.json()["client"]["id"],
        "agent_id": agent_id,
        "instance_id": instance_id,
        "replica_id": replica_id,
        "command_id": command.json()["command"]["id"],
    }


async def _add_replica(uow: UnitOfWork, client_id: ClientId, agent_id: str) -> str:
    """A replica row of the agent (R1 needs manual-replica mode, which only C6 turns on)."""
    agent = await uow.agents.get(client_id, agent_id)
    assert agent is not None
    replica = make_replica(agent)
    await uow.replicas.add(replica)
    await uow.commit()
    return replica.replica_id


def _notifications(database_url: str, tenants: dict[str, dict[str, str]]) -> None:
    sync_url = database_url.replace("+aiosqlite", "").replace("+asyncmy", "+pymysql")
    engine = create_engine(sync_url)
    table = table_of(NotificationModel)
    with engine.connect() as conn:
        for ids in tenants.values():
            row = conn.execute(select(table.c.notification_id).where(table.c.client_id == ids["client_id"])).first()
            assert row is not None, "R-1 stores an agent_registered notification"
            ids["notification_id"] = row[0]
    engine.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Http, dict[str, dict[str, str]]]]:
    tmp_path: Path = tmp_path_factory.mktemp("tenancy")
    url = os.environ.get("SPOTOPT_TEST_DATABASE_URL") or sqlite_url(tmp_path)
    settings = make_settings(url, tmp_path, client_rate_limit=100_000, agent_rate_limit=100_000)
    reset_database(settings)
    with TestClient(app=create_app(settings)) as http:
        tenants = {name: _tenant(http, name, index + 1) for index, name in enumerate(TENANTS)}
        _notifications(url, tenants)
        yield http, tenants


def _routes(http: Http) -> list[Route]:
    return api_routes(http.app)


def _fill(route: Route, ids: dict[str, str]) -> str:
    known = {**FLEET_IDS, **ids}
    missing = [name for name in route.params if name not in known]
    assert not missing, f"{route}: the matrix has no id for {missing}; seed one"
    return route.path(known)


def _call(http: Http, route: Route, path: str, headers: dict[str, str]) -> Any:
    """A schema-valid body (from the served document), so the answer is about tenancy, not about the body."""
    body = sample_body(_document(http), route.method, route.template) if route.has_body else None
    return http.request(route.method, path, headers=headers, json=body)


def _document(http: Http) -> dict[str, Any]:
    cached: dict[str, Any] | None = getattr(http.app.state, "matrix_document", None)
    if cached is None:
        cached = http.get("/docs/openapi.json").json()
        http.app.state.matrix_document = cached
    return cached


def _other_ids(tenants: dict[str, dict[str, str]], caller: str) -> set[str]:
    return {v for name, ids in tenants.items() if name != caller for k, v in ids.items() if k != "token"}


def test_cl4_every_route_refuses_cross_tenant_access_and_leaks_no_foreign_id(
    world: tuple[Http, dict[str, dict[str, str]]],
) -> None:
    """CL-4, §1.3: tenant A's token on tenant B's ids → 403 ``client_mismatch`` ({client_id}) or 404 ``not_found``,
    never 2xx, and no body carries another tenant's ids; the same for every ordered pair of the three tenants.
    """
    http, tenants = world
    routes = [r for r in _routes(http) if r.realm == "client"]
    assert routes
    for caller, owner in zip(TENANTS, TENANTS[1:] + TENANTS[:1], strict=True):
        auth = {"Authorization": f"Bearer {tenants[caller]['token']}"}
        foreign = _other_ids(tenants, caller)
        for route in routes:
            response = _call(http, route, _fill(route, tenants[owner]), auth)
            assert not any(fid in response.text for fid in foreign), f"{route} leaks a foreign id: {response.text}"
            if not route.params:
                continue  # nothing foreign named: the route answers for the caller's own client
            expected = (403, "client_mismatch") if "client_id" in route.params else (404, "not_found")
            got = (response.status_code, response.json().get("detail", {}).get("code"))
            assert got == expected, f"{route} as {caller} on {owner}'s ids: {response.status_code} {response.text}"


def test_s1_2_admin_routes_refuse_every_client_token(world: tuple[Http, dict[str, dict[str, str]]]) -> None:
    """§1.2: a client token on an admin route → 403 ``wrong_realm``, whoever's ids the path names."""
    http, tenants = world
    routes = [r for r in _routes(http) if r.realm == "admin"]
    assert routes
    for name in TENANTS:
        auth = {"Authorization": f"Bearer {tenants[name]['token']}"}
        for route in routes:
            response = _call(http, route, _fill(route, tenants[name]), auth)
            assert response.status_code == 403, f"{route}: {response.status_code} {response.text}"
            assert response.json()["detail"]["code"] == "wrong_realm"


def test_s1_2_client_routes_refuse_the_admin_token(world: tuple[Http, dict[str, dict[str, str]]]) -> None:
    """§1.2: the admin token on a client-realm route → 403 ``wrong_realm``."""
    http, tenants = world
    for route in (r for r in _routes(http) if r.realm == "client"):
        response = _call(http, route, _fill(route, tenants["alpha"]), dict(ADMIN))
        assert response.status_code == 403, f"{route}: {response.status_code} {response.text}"
        assert response.json()["detail"]["code"] == "wrong_realm"


def test_s1_2_every_route_but_health_and_docs_refuses_no_token(world: tuple[Http, dict[str, dict[str, str]]]) -> None:
    """§1.2: no credential → 401 ``missing_token`` on every route of the router (the job dashboard included)."""
    http, tenants = world
    checked = 0
    for route in http.app.routes:
        if route.path.startswith(PUBLIC):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in set(handler.http_methods) - {"OPTIONS", "HEAD"}:
                template = Route(method, _template(route.path), "", "")
                response = http.request(method, _fill(template, tenants["alpha"]))
                assert response.status_code == 401, f"{template}: {response.status_code} {response.text[:200]}"
                checked += 1
    assert checked >= len(_routes(http))


def _template(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
