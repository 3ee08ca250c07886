"""Support for the bad-input matrix (api.md §1.1 – §1.5): the app's routes, a seeded world, the error-body check
and the "writes nothing" database snapshot."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from litestar.handlers import BaseRouteHandler
from litestar.testing import TestClient
from sqlalchemy import Engine, create_engine, select

from spotopt.adapters.persistence.models.metadata import metadata
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import ClientId, new_id
from spotopt.entrypoints.http.auth import admin_guard, client_guard
from spotopt.entrypoints.http.middleware import MULTIPART_ROUTES
from tests.agent_v4.agent import OLD, register_body
from tests.factories.commands import make_command
from tests.factories.replicas import make_replica
from tests.http_app import ADMIN_TOKEN

Http = TestClient[Litestar]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = {"Content-Type": "application/json"}
NOT_MATRIX = ("/docs", "/saq", "/health")  # API docs, the job dashboard (own realm) and H1 (no auth, no body)
PARAM = re.compile(r"\{(\w+)\}")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
LEAKS = re.compile(
    r"Traceback|SELECT|INSERT|UPDATE |DELETE FROM|sqlalchemy|sqlite|msgspec|File \"|\b[A-Z]\w*(?:Error|Exception)\b"
)
FOREIGN_INSTANCE = "i-0f0e0d0c0b0a09080"  # the foreign client's primary: own-client lookups never find it
EVENTS_ALLOWED_ON_FAILURE = {"auth_failed", "validation_error"}  # api.md §1.5 atomicity exceptions


# Routes whose contract requires a query parameter (M12 ``q``), with a valid value.
REQUIRED_QUERY = {"GET /api/admin/search": "q=spotopt"}


@dataclass(frozen=True, order=True)
class Route:
    """One (method, path) of the app; ``template`` has its parameters written ``{name}``."""

    method: str
    template: str
    realm: str  # "client" | "admin" | "none"
    bucket: str  # rate-limit bucket of §1.9 ("exempt" for R8, R9, A10)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(PARAM.findall(self.template))

    @property
    def has_body(self) -> bool:
        """A JSON body; M14 takes multipart/form-data instead (its own bad-input tests: tests/unit/decisions)."""
        return self.method in {"POST", "PUT"} and self.template not in MULTIPART_ROUTES

    def path(self, ids: Mapping[str, str]) -> str:
        return PARAM.sub(lambda m: ids[m.group(1)], self.template)

    @property
    def query(self) -> str:
        """The query string a valid request needs (``?…``), or ``""``."""
        needed = REQUIRED_QUERY.get(str(self))
        return f"?{needed}" if needed else ""


def _realm(handler: BaseRouteHandler) -> str:
    guards = handler.resolve_guards()
    return "admin" if admin_guard in guards else "client" if client_guard in guards else "none"


def api_routes(app: Litestar) -> list[Route]:
    """Every (method, path) the app registers, except OPTIONS/HEAD and the paths in ``NOT_MATRIX``."""
    routes: set[Route] = set()
    for route in app.routes:
        if route.path.startswith(NOT_MATRIX):
            continue
        template = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for handler in getattr(route, "route_handlers", []):
            for method in set(handler.http_methods) - {"OPTIONS", "HEAD"}:
                routes.add(Route(method, template, _realm(handler), handler.opt.get("rate_bucket", "")))
    return sorted(routes)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """§1.5 envelope, JSON (§1.1), X-Request-ID, no ``success`` (§1.11), nothing internal; returns the body."""
    assert response.status_code == status, f"{response.status_code} {response.text[:300]}"
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert REQUEST_ID.match(response.headers.get("x-request-id", ""))
    body = response.json()
    assert isinstance(body, dict)
    assert set(body) == {"error", "status_code", "detail"}, body
    assert body["status_code"] == status
    assert isinstance(body["error"], str)
    assert body["error"]
    assert isinstance(body["detail"], dict)
    assert body["detail"]["code"] == code, body
    assert "success" not in body["detail"]
    assert not LEAKS.search(response.text), response.text
    return body


def snapshot(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table (stronger than row counts: an UPDATE shows too)."""
    with engine.connect() as conn:
        return {t.name: sorted(map(repr, conn.execute(select(t)).all())) for t in metadata.sorted_tables}


@dataclass
class Database:
    """The app's SQLite file, read with a sync engine. ``rows()`` re-reads every table only when SQLite reports a
    commit by another connection since the last read (``PRAGMA data_version``), which keeps the matrix fast."""

    path: Path
    engine: Engine = field(init=False)
    _probe: sqlite3.Connection = field(init=False)
    _cached: tuple[int, dict[str, list[str]]] | None = None

    def __post_init__(self) -> None:
        self.engine = create_engine(f"sqlite:///{self.path}")
        self._probe = sqlite3.connect(self.path)

    def rows(self) -> dict[str, list[str]]:
        version = int(self._probe.execute("PRAGMA data_version").fetchone()[0])
        if self._cached is None or self._cached[0] != version:
            self._cached = (version, snapshot(self.engine))
        return self._cached[1]

    def close(self) -> None:
        self._probe.close()
        self.engine.dispose()


def assert_same_rows(before: dict[str, list[str]], after: dict[str, list[str]]) -> None:
    """CC-1: a failing request writes nothing; only ``auth_failed``/``validation_error`` events may appear."""
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= {"system_events"}, f"a failing request wrote to {sorted(changed)}"
    new_events = set(after["system_events"]) - set(before["system_events"])
    assert all(any(f"'{kind}'" in row for kind in EVENTS_ALLOWED_ON_FAILURE) for row in new_events), new_events


@dataclass
class World:
    """One app over one SQLite file: client A (the token's client), client B (foreign), client C (inactive)."""

    http: Http
    db: Database
    own: dict[str, str]
    foreign: dict[str, str]
    client_headers: dict[str, str]
    inactive_headers: dict[str, str]

    def headers(self, realm: str) -> dict[str, str]:
        return dict(ADMIN) if realm == "admin" else dict(self.client_headers)

    def failing(
        self, method: str, path: str, headers: Mapping[str, str], content: bytes | None = None
    ) -> httpx.Response:
        """Send a request that must fail, and assert it wrote nothing."""
        before = self.db.rows()
        response = self.http.request(method, path, headers=dict(headers), content=content)
        assert_same_rows(before, self.db.rows())
        return response


def _new_client(http: Http, name: str) -> tuple[str, dict[str, str]]:
    created = http.post("/api/admin/clients/create", json={"name": name}, headers=ADMIN)
    assert created.status_code == 201, created.text
    body = created.json()
    return body["client"]["id"], {"Authorization": f"Bearer {body['client_token']}"}


def _agent_with_children(
    http: Http, client_id: str, headers: Mapping[str, str], instance_id: str = OLD
) -> dict[str, str]:
    """Register an agent over HTTP, then seed one command and one replica of it through the app's container."""
    body = register_body("ignored", instance_id=instance_id)
    registered = http.post("/api/agents/register", json=body, headers=dict(headers))
    assert registered.status_code == 201, registered.text
    agent_id = registered.json()["agent_id"]

    async def seed(uow: UnitOfWork) -> tuple[str, str]:
        agent = await uow.agents.get(ClientId(client_id), agent_id)
        assert agent is not None
        command, replica = make_command(agent), make_replica(agent)
        await uow.commands.add(command)
        await uow.replicas.add(replica)
        await uow.commit()
        return command.command_id, replica.replica_id

    async def first_notification(uow: UnitOfWork) -> str:
        notification = Notification(
            notification_id=new_id(), client_id=ClientId(client_id), type="agent-registered",
            severity=Severity.INFO, title="t", message="m", dedup_key=f"matrix:{agent_id}",
            created_at=datetime.now(UTC),
        )  # fmt: skip
        await uow.events.add_notification(notification)
        await uow.commit()
        return notification.notification_id

    command_id, replica_id = in_app(http, seed)
    return {
        "client_id": client_id, "agent_id": agent_id, "command_id": command_id, "replica_id": replica_id,
        "instance_id": instance_id, "notification_id": in_app(http, first_notification),
    }  # fmt: skip


def in_app(http: Http, work: Any) -> Any:
    """Run ``work(uow)`` on a unit of work of the app under test, on the app's own event loop."""

    async def run() -> Any:
        async with http.app.state.dishka_container() as scope:
            return await work(await scope.get(UnitOfWork))

    return http.blocking_portal.call(run)


def build_world(http: Http, db: Database) -> World:
    own_client, own_headers = _new_client(http, "Matrix Own")
    foreign_client, foreign_headers = _new_client(http, "Matrix Foreign")
    inactive_client, inactive_headers = _new_client(http, "Matrix Inactive")

    async def deactivate(uow: UnitOfWork) -> None:
        client = await uow.clients.get_for_update(ClientId(inactive_client))
        assert client is not None
        client.deactivate(client.created_at)
        await uow.commit()

    in_app(http, deactivate)
    return World(
        http=http,
        db=db,
        own=_agent_with_children(http, own_client, own_headers),
        foreign=_agent_with_children(http, foreign_client, foreign_headers, FOREIGN_INSTANCE),
        client_headers=own_headers,
        inactive_headers=inactive_headers,
    )
