"""The served OpenAPI document states what the server does (issue 8 item 6; api.md §1.2, §1.4, §1.5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from spotopt.entrypoints.http.app import create_app
from spotopt.entrypoints.http.errors import ErrorBody
from tests.http_app import ADMIN_TOKEN, make_settings, reset_database
from tests.services import sqlite_url

METHODS = ("get", "post", "put", "delete", "patch")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient[Litestar], dict[str, Any]]]:
    tmp_path: Path = tmp_path_factory.mktemp("openapi")
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    with TestClient(app=create_app(settings)) as http:
        response = http.get("/docs/openapi.json")
        assert response.status_code == 200
        yield http, response.json()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def test_scalar_and_swagger_ui_are_served(served: tuple[TestClient[Litestar], dict[str, Any]]) -> None:
    http, _ = served
    for page in ("/docs", "/docs/swagger"):
        response = http.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")


def test_s1_5_every_error_status_of_every_operation_carries_the_real_error_body(
    served: tuple[TestClient[Litestar], dict[str, Any]],
) -> None:
    """§1.5: one ``ErrorBody`` (``detail`` an object with ``code``) on every 4xx/5xx, by realm and by shape."""
    _, document = served
    error = document["components"]["schemas"]["ErrorBody"]
    assert error["properties"]["detail"] == {"$ref": "#/components/schemas/ErrorDetail"}
    assert document["components"]["schemas"]["ErrorDetail"]["required"] == ["code"]
    for method, path, operation in _operations(document):
        statuses = set(operation["responses"])
        assert {"500", "503"} <= statuses, (method, path)
        if path != "/health":
            assert {"401", "403", "429"} <= statuses, (method, path)
            assert operation["security"], (method, path)
            assert "Retry-After" in operation["responses"]["429"]["headers"]
        if method in {"post", "put"}:
            assert {"400", "413", "415"} <= statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_s1_5_the_error_bodies_the_server_sends_fit_the_documented_struct(
    served: tuple[TestClient[Litestar], dict[str, Any]],
) -> None:
    http, _ = served
    answers = [
        http.get("/api/agents/a/config"),
        http.get("/api/agents/a/config", headers={"Authorization": "Bearer nope"}),
        http.post("/api/admin/clients/create", json={"name": 5}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}),
        http.get("/api/nowhere"),
    ]
    for response in answers:
        assert response.status_code >= 400
        body = msgspec.convert(response.json(), ErrorBody)
        assert body.status_code == response.status_code


def test_s1_4_enforced_constraints_are_stated(served: tuple[TestClient[Litestar], dict[str, Any]]) -> None:
    """§1.4: unknown fields rejected on M1 → ``additionalProperties: false``; ``max_hourly_cost > 0``;
    ``ge=0`` bounds (which Litestar alone drops) and hand-checked rules appear in the schema.
    """
    _, document = served
    schemas = document["components"]["schemas"]
    assert schemas["ClientCreateRequest"]["additionalProperties"] is False
    assert "additionalProperties" not in schemas["HeartbeatRequest"]  # A*/R* ignore unknown fields
    assert schemas["ReplicaCreateRequest"]["properties"]["max_hourly_cost"]["exclusiveMinimum"] == 0
    assert schemas["ReplicaSyncRequest"]["properties"]["sync_latency_ms"]["minimum"] == 0
    assert "offline" in schemas["HeartbeatRequest"]["properties"]["status"]["enum"]
    assert len(schemas["CleanupRequest"]["anyOf"]) == 3
    regenerate = document["paths"]["/api/admin/clients/{client_id}/regenerate-token"]["post"]
    assert regenerate["requestBody"]["content"]["application/json"]["schema"]["additionalProperties"] is False


def test_links_feed_produced_ids_to_every_operation_that_takes_them(
    served: tuple[TestClient[Litestar], dict[str, Any]],
) -> None:
    """Stateful testing: A1's ``agent_id`` reaches every agent-only path operation; R1's ``replica_id`` the replica
    routes with the request's own ``agent_id``.
    """
    _, document = served
    register = document["paths"]["/api/agents/register"]["post"]["responses"]["201"]["links"]
    takers = [
        op["operationId"]
        for _, path, op in _operations(document)
        if [p["name"] for p in op.get("parameters", []) if p["in"] == "path"] == ["agent_id"]
    ]
    assert sorted(register) == sorted(takers)
    assert register["ApiAgentsAgentIdHeartbeatHeartbeat"]["parameters"] == {"agent_id": "$response.body#/agent_id"}
    replica = document["paths"]["/api/agents/{agent_id}/replicas"]["post"]["responses"]["201"]["links"]
    promote = replica["ApiAgentsAgentIdReplicasReplicaIdPromotePromote"]["parameters"]
    assert promote == {"agent_id": "$request.path.agent_id", "replica_id": "$response.body#/replica_id"}
