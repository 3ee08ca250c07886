"""Bad input on every route (issue 2; api.md §1.1 – §1.5, §1.9, CL-4): the real app over one SQLite file.

The routes are read from ``app.routes`` at collection time, so a new route joins the matrix by itself (a new kind
of path parameter needs an id in ``tests.bad_input.World``, a route with required body fields an entry in
``VALID_BODIES``; the matrix fails until they are there). ``/docs*``, ``/saq*`` (own realm and UI) and ``/health`` (no auth, no body) are left out. Every failing
request is sent through ``World.failing``, which compares every row of every table before and after (CC-1).

Deviation from the evaluation order of §1.5, decided here: Litestar decodes and validates the body (step 6) before
the handler runs, so before the use case looks the agent/replica/command up (step 5). A body that is invalid for
the route therefore answers 400 even for an unknown or foreign id. This leaks nothing (the 400 is the same for an
own, an unknown and a foreign id, pinned by ``test_s1_5_body_validation_precedes_lookup_and_leaks_nothing``); the
404 checks below send a body that is valid for the route.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from spotopt.entrypoints.http.app import create_app
from spotopt.entrypoints.http.auth import AUTH_FAILURES, admin_identity
from spotopt.entrypoints.http.ratelimit import FixedWindowLimiter
from tests.agent_v4.agent import NEW, OLD, SHUTDOWN, register_body
from tests.bad_input import ADMIN, JSON, REQUEST_ID, Database, Route, World, api_routes, assert_error, build_world
from tests.http_app import ADMIN_TOKEN, make_settings, reset_database
from tests.services import sqlite_url

_WALK = Path(tempfile.gettempdir()) / "spotopt-route-walk"
ROUTES = api_routes(create_app(make_settings(sqlite_url(_WALK), _WALK)))
BODY_ROUTES = [r for r in ROUTES if r.has_body]
CLIENT_ROUTES = [r for r in ROUTES if r.realm == "client"]
ONE_MIB = 1024 * 1024
UNKNOWN = {"None": "None", "long": "f" * 300}
INSTANCE = {"instance_id": OLD, "instance_type": "t3.medium", "region": "us-east-1", "az": "us-east-1a"}
PRICING = {
    "instance": INSTANCE,
    "pricing": {"spot_pools": [{"pool_id": "t3.medium.us-east-1a", "az": "us-east-1a", "price": 0.0125}]},
}
SWITCH = {"old_instance": {"instance_id": OLD}, "new_instance": {"instance_id": NEW}, "snapshot": {"used": False}}
AGENT = "/api/agents/{agent_id}"
REPLICA = AGENT + "/replicas/{replica_id}"
VALID_BODIES: dict[str, dict[str, Any]] = {
    "POST /api/agents/register": register_body("ignored"),
    f"POST {AGENT}/heartbeat": SHUTDOWN,
    f"POST {AGENT}/commands/{{command_id}}/executed": {"success": True, "message": "Switch completed"},
    f"POST {AGENT}/pricing-report": PRICING,
    f"POST {AGENT}/switch-report": SWITCH,
    f"POST {AGENT}/termination": {"instance_id": OLD},
    f"POST {AGENT}/cleanup-report": {"old_instance_id": OLD, "success": True},
    f"POST {AGENT}/rebalance-recommendation": {"instance_id": OLD},
    f"POST {AGENT}/issue-switch-command": {"target_mode": "ondemand"},
    f"POST {AGENT}/replicas": {"replica_type": "manual"},
    f"PUT {REPLICA}": {"instance_id": NEW, "status": "syncing"},
    f"POST {REPLICA}/status": {"status": "syncing"},
    f"POST {REPLICA}/sync-status": {"sync_status": "syncing"},
    f"POST {AGENT}/create-emergency-replica": {"signal_type": "termination-notice", "instance_id": OLD},
    f"POST {AGENT}/termination-imminent": {"instance_id": OLD},
    "POST /api/admin/clients/create": {"name": "Never Created"},
    "POST /api/client/agents/{agent_id}/toggle-enabled": {"enabled": True},
    "POST /api/client/agents/{agent_id}/settings": {"auto_terminate_enabled": True},
    "POST /api/client/agents/{agent_id}/config": {"cooldown_minutes": 30},
    "POST /api/client/instances/{instance_id}/force-switch": {"target": "ondemand"},
}
# (route, body, the field detail.field must name): wrong types, missing fields, bad enums, unknown M* fields.
REGISTER = VALID_BODIES["POST /api/agents/register"]
SPOT_CHECKS: list[tuple[str, dict[str, Any], str]] = [
    ("POST /api/agents/register", {**REGISTER, "logical_agent_id": 5}, "logical_agent_id"),
    ("POST /api/agents/register", {k: v for k, v in REGISTER.items() if k != "instance_id"}, "instance_id"),
    ("POST /api/agents/register", {**REGISTER, "instance_id": "i-XYZ"}, "instance_id"),
    ("POST /api/agents/register", {**REGISTER, "mode": "Spot"}, "mode"),
    ("POST /api/agents/register", {**REGISTER, "public_ip": 10}, "public_ip"),
    (f"POST {AGENT}/heartbeat", {"status": 1}, "status"),
    (f"POST {AGENT}/heartbeat", {"status": "dancing"}, "status"),
    (f"POST {AGENT}/heartbeat", {"monitored_instances": OLD}, "monitored_instances"),
    (f"POST {AGENT}/heartbeat", {"monitored_instances": [OLD, 1]}, "monitored_instances[1]"),
    (f"POST {AGENT}/pricing-report", {"pricing": PRICING["pricing"]}, "instance"),
    (f"POST {AGENT}/pricing-report", {**PRICING, "instance": {**INSTANCE, "az": 1}}, "instance.az"),
    (f"POST {AGENT}/pricing-report", {**PRICING, "pricing": {"on_demand_price": "0.04"}}, "pricing.on_demand_price"),
    (
        f"POST {AGENT}/pricing-report",
        {**PRICING, "pricing": {"spot_pools": [{"pool_id": "t3.medium.us-east-1a", "az": "us-east-1a", "price": "1"}]}},
        "pricing.spot_pools[0].price",
    ),
    (f"POST {AGENT}/switch-report", {"new_instance": {"instance_id": NEW}}, "old_instance"),
    (f"POST {AGENT}/switch-report", {**SWITCH, "new_instance": {"instance_id": 7}}, "new_instance.instance_id"),
    (f"POST {AGENT}/switch-report", {**SWITCH, "snapshot": {"used": "false"}}, "snapshot.used"),
    (f"POST {AGENT}/switch-report", {**SWITCH, "timing": {"switch_initiated_at": 17}}, "timing.switch_initiated_at"),
    (f"POST {AGENT}/commands/{{command_id}}/executed", {}, "success"),
    (f"POST {AGENT}/commands/{{command_id}}/executed", {"success": "true"}, "success"),
    (f"POST {AGENT}/commands/{{command_id}}/executed", {"success": 1}, "success"),
    (f"POST {AGENT}/commands/{{command_id}}/executed", {"success": True, "message": 5}, "message"),
    (f"POST {AGENT}/termination", {"reason": 7}, "reason"),
    (f"POST {AGENT}/cleanup-report", {"snapshots": {"deleted": "snap-1"}}, "snapshots.deleted"),
    (f"POST {AGENT}/replicas", {"max_hourly_cost": "1.5"}, "max_hourly_cost"),
    (f"POST {AGENT}/replicas", {"tags": ["a"]}, "tags"),
    (f"POST {AGENT}/replicas", {"exclude_zones": ["us-east-1a", 1]}, "exclude_zones[1]"),
    (f"PUT {REPLICA}", {"instance_id": "web-1"}, "instance_id"),
    (f"POST {REPLICA}/status", {"status": "zombie"}, "status"),
    (f"POST {REPLICA}/sync-status", {"sync_latency_ms": 1.5}, "sync_latency_ms"),
    (f"POST {REPLICA}/promote", {"demote_old_primary": "yes"}, "demote_old_primary"),
    (f"POST {AGENT}/create-emergency-replica", {}, "signal_type"),
    (f"POST {AGENT}/create-emergency-replica", {"signal_type": "rebalance"}, "signal_type"),
    (
        f"POST {AGENT}/create-emergency-replica",
        {"signal_type": "termination-notice", "termination_time": 17},
        "termination_time",
    ),
    (f"POST {AGENT}/termination-imminent", {"instance_id": 5}, "instance_id"),
    (f"POST {AGENT}/termination-imminent", {"detected_at": "soon"}, "detected_at"),
    (f"POST {AGENT}/rebalance-recommendation", {"detected_at": True}, "detected_at"),
    (f"POST {AGENT}/decide", {"instance": ["i-0a1b2c3d4e5f67890"]}, "instance"),
    (f"POST {AGENT}/issue-switch-command", {}, "target_mode"),
    (f"POST {AGENT}/issue-switch-command", {"target_mode": "SPOT"}, "target_mode"),
    (f"POST {AGENT}/issue-switch-command", {"target_mode": "spot", "priority": "10"}, "priority"),
    (f"POST {AGENT}/issue-switch-command", {"target_mode": "spot", "priority": 10.5}, "priority"),
    ("POST /api/admin/clients/create", {}, "name"),
    ("POST /api/admin/clients/create", {"name": 5}, "name"),
    ("POST /api/admin/clients/create", {"name": "x", "max_agents": "5"}, "max_agents"),
    ("POST /api/admin/clients/create", {"name": "x", "default_auto_switch_enabled": 1}, "default_auto_switch_enabled"),
    ("POST /api/admin/clients/create", {"name": "x", "nickname": "y"}, "nickname"),
    ("POST /api/admin/clients/{client_id}/regenerate-token", {"rotate": True}, "rotate"),
]


def _id_cases() -> list[tuple[Route, str]]:
    """Unknown (``None``, 300 chars) and foreign ids; an admin sees every client, so M* routes have no foreign case."""
    cases = []
    for route in (r for r in ROUTES if r.params and not _client_path(r)):
        cases += [(route, "None"), (route, "long")] + ([(route, "foreign")] if route.realm == "client" else [])
        if len(route.params) > 1:
            cases += [(route, "child:None"), (route, "child:long"), (route, "child:foreign")]
    return cases


def _client_path(route: Route) -> bool:
    """§1.3: a client-realm path naming ``{client_id}`` answers 403 ``client_mismatch`` for any other id, not 404."""
    return route.realm == "client" and "client_id" in route.params


def ids(world: World, case: str) -> dict[str, str]:
    """Path parameters for one case; ``child:<kind>`` keeps the own agent and replaces the ids below it."""
    scope, _, kind = case.rpartition(":")
    chosen = {"own": world.own, "foreign": world.foreign}.get(kind) or dict.fromkeys(world.own, UNKNOWN[kind])
    return {**chosen, "agent_id": world.own["agent_id"]} if scope == "child" else chosen


def body_of(route: Route) -> bytes | None:
    body = VALID_BODIES.get(str(route))
    return None if body is None and not route.has_body else json.dumps(body or {}).encode()


def send(world: World, route: Route, case: str = "own", body: bytes | None = None, **headers: str) -> httpx.Response:
    return world.failing(
        route.method, route.path(ids(world, case)), {**world.headers(route.realm), **JSON, **headers}, body
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("bad-input")
    settings = make_settings(sqlite_url(tmp), tmp)
    reset_database(settings)
    db = Database(tmp / "spotopt.db")
    with TestClient(app=create_app(settings)) as http:
        yield build_world(http, db)
    db.close()


@pytest.fixture(autouse=True)
def fresh_limits(world: World) -> None:
    """Empty rate-limit counters per test, in one window that cannot roll over mid-test (no flaky 429 checks)."""
    world.http.app.state.rate_limiter = FixedWindowLimiter(window_seconds=10**9)


def test_s1_2_every_api_route_is_in_the_matrix_behind_a_realm() -> None:
    assert len(ROUTES) >= 25
    assert {r.realm for r in ROUTES} == {"client", "admin"}


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_s1_4_malformed_json_is_400_malformed_json(world: World, route: Route) -> None:
    assert_error(send(world, route, body=b'{"status": "online",'), 400, "malformed_json")


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_s1_5_step3_malformed_json_without_header_is_400_for_body_token_realm_else_401(
    world: World, route: Route
) -> None:
    response = world.failing(route.method, route.path(world.own), JSON, b"{bad")
    assert_error(response, *((400, "malformed_json") if route.realm == "client" else (401, "missing_token")))


@pytest.mark.parametrize("payload", [b"[]", b'[{"name": "x"}]', b'"text"', b"42", b"null"])
@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_s1_1_top_level_json_that_is_not_an_object_is_400(world: World, route: Route, payload: bytes) -> None:
    detail = assert_error(send(world, route, body=payload), 400, "validation_error")["detail"]
    assert (detail["field"], detail["reason"]) == ("body", "must be a JSON object")


@pytest.mark.parametrize("authenticated", [True, False], ids=["token", "no-token"])
@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_s1_1_body_over_1_mib_is_413_before_auth(world: World, route: Route, authenticated: bool) -> None:
    big = b'{"pad": "' + b"a" * ONE_MIB + b'"}'
    headers = {**(world.headers(route.realm) if authenticated else {}), **JSON}
    assert_error(world.failing(route.method, route.path(world.own), headers, big), 413, "payload_too_large")


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_s1_1_non_json_body_is_415_before_auth(world: World, route: Route, media: str) -> None:
    for headers in (world.headers(route.realm), {}):
        response = world.failing(route.method, route.path(world.own), {**headers, "Content-Type": media}, b"a=1")
        assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwdw==", "Bearer ", "Token spo_x"])
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_s1_2_missing_credential_is_401_missing_token(world: World, route: Route, authorization: str | None) -> None:
    headers = {**JSON, **({"Authorization": authorization} if authorization else {})}
    assert_error(world.failing(route.method, route.path(world.own), headers), 401, "missing_token")


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_s1_2_unknown_token_is_401_invalid_token(world: World, route: Route) -> None:
    assert_error(send(world, route, body=body_of(route), Authorization="Bearer spo_" + "A" * 43), 401, "invalid_token")


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_s1_2_token_of_the_other_realm_is_403_wrong_realm(world: World, route: Route) -> None:
    other = dict(world.client_headers) if route.realm == "admin" else ADMIN
    assert_error(send(world, route, body=body_of(route), **other), 403, "wrong_realm")


@pytest.mark.parametrize("route", CLIENT_ROUTES, ids=str)
def test_s1_2_cl2_token_of_an_inactive_client_is_403_client_inactive(world: World, route: Route) -> None:
    assert_error(send(world, route, body=body_of(route), **world.inactive_headers), 403, "client_inactive")


@pytest.mark.parametrize(("route", "case"), _id_cases(), ids=str)
def test_s1_3_cl4_unknown_and_foreign_ids_are_one_and_the_same_404(world: World, route: Route, case: str) -> None:
    reference = "child:None" if case.startswith("child:") else "None"
    body = assert_error(send(world, route, case, body_of(route)), 404, "not_found")
    assert body == assert_error(send(world, route, reference, body_of(route)), 404, "not_found")
    assert body["detail"] == {"code": "not_found"}


@pytest.mark.parametrize("route", [r for r in ROUTES if _client_path(r)], ids=str)
@pytest.mark.parametrize("case", ["None", "long", "foreign"])
def test_s1_3_cl4_another_client_id_in_a_client_path_is_403_client_mismatch(
    world: World, route: Route, case: str
) -> None:
    body = assert_error(send(world, route, case, body_of(route)), 403, "client_mismatch")
    assert body == assert_error(send(world, route, "None", body_of(route)), 403, "client_mismatch")


@pytest.mark.parametrize(("key", "payload", "field"), SPOT_CHECKS, ids=lambda v: v if isinstance(v, str) else "")
def test_s1_4_wrong_types_and_missing_fields_are_400_naming_the_field(
    world: World, key: str, payload: dict[str, Any], field: str
) -> None:
    route = next(r for r in ROUTES if str(r) == key)
    detail = assert_error(send(world, route, body=json.dumps(payload).encode()), 400, "validation_error")["detail"]
    assert set(detail) == {"code", "field", "reason"}
    assert detail["field"] == field
    assert isinstance(detail["reason"], str)
    assert detail["reason"]


@pytest.mark.parametrize("route", [r for r in BODY_ROUTES if r.params], ids=str)
def test_s1_5_body_validation_precedes_lookup_and_leaks_nothing(world: World, route: Route) -> None:
    cases = ["own", "None", "long"] + (["foreign"] if route.realm == "client" else [])
    bodies = [assert_error(send(world, route, case, b"[1]"), 400, "validation_error") for case in cases]
    assert all(body == bodies[0] for body in bodies)


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_s1_9_failed_auth_limit_is_429_before_any_token_lookup(world: World, route: Route) -> None:
    limiter, limit = world.http.app.state.rate_limiter, world.http.app.state.settings.auth_failure_limit
    for _ in range(limit):
        limiter.hit(AUTH_FAILURES, "testclient", limit)
    response = send(world, route, "None", body_of(route))
    body = assert_error(response, 429, "rate_limited")
    assert response.headers["retry-after"] == str(body["detail"]["retry_after_seconds"])
    assert body["detail"]["retry_after_seconds"] >= 1


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_s1_9_credential_limit_is_429_before_lookup_except_signal_routes(world: World, route: Route) -> None:
    settings, limiter = world.http.app.state.settings, world.http.app.state.rate_limiter
    if route.realm == "admin":
        bucket, key, limit = "admin", admin_identity(ADMIN_TOKEN), settings.admin_rate_limit
    else:
        bucket, key, limit = route.bucket, world.own["client_id"], settings.agent_rate_limit
    for _ in range(limit):
        limiter.hit(bucket, key, limit)
    response = send(world, route, "None" if route.params else "own", body_of(route))
    if route.bucket == "exempt":
        assert_error(response, 404, "not_found")
    else:
        assert "retry-after" in response.headers
        assert_error(response, 429, "rate_limited")


@pytest.mark.parametrize("template", sorted({r.template for r in ROUTES}))
def test_s1_1_wrong_method_on_a_known_path_is_405_with_allow_before_auth(world: World, template: str) -> None:
    allowed = {r.method for r in ROUTES if r.template == template}
    path = Route("GET", template, "none", "").path(world.own)
    for method in sorted({"GET", "POST", "PUT", "DELETE", "PATCH"} - allowed):
        response = world.failing(method, path, JSON, b"{}" if method != "GET" else None)
        assert_error(response, 405, "method_not_allowed")
        allow = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed <= allow
        assert method not in allow


@pytest.mark.parametrize("path", ["/api/nowhere", "/api/agents/{agent_id}/nowhere", "/api/admin/nowhere", "/x.php"])
def test_s1_5_unknown_route_is_404_json_before_auth(world: World, path: str) -> None:
    for method in ("GET", "POST"):
        response = world.failing(method, path.format(**world.own), JSON)
        assert_error(response, 404, "not_found")


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_s1_1_trailing_slash_is_served_like_the_bare_path(world: World, route: Route) -> None:
    bare = world.failing(route.method, route.path(world.own), JSON)
    slashed = world.failing(route.method, route.path(world.own) + "/", JSON)
    assert_error(bare, 401, "missing_token")
    assert slashed.json() == bare.json()


def test_s1_1_trailing_slash_serves_successful_calls(world: World) -> None:
    headers = {**world.client_headers, **JSON}
    agent = f"/api/agents/{world.own['agent_id']}"
    assert world.http.get(f"{agent}/config/", headers=headers).json()["enabled"] is True
    beat = world.http.post(f"{agent}/heartbeat/", json={"status": "online", "instance_id": OLD}, headers=headers)
    assert beat.json() == {"success": True}


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "GET"], ids=str)
def test_w02_get_with_json_content_type_and_no_body_is_served(world: World, route: Route) -> None:
    response = world.http.get(route.path(world.own) + route.query, headers={**world.headers(route.realm), **JSON})
    assert response.status_code == 200, response.text
    csv = "/export/" in route.template  # §1.12: the CSV routes answer text/csv on success
    assert response.headers["content-type"] == ("text/csv; charset=utf-8" if csv else "application/json; charset=utf-8")
    assert REQUEST_ID.match(response.headers["x-request-id"])


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "DELETE"], ids=str)
def test_s1_1_delete_ignores_any_body(world: World, route: Route) -> None:
    headers = {**world.headers(route.realm), "Content-Type": "text/plain"}
    assert_error(world.failing("DELETE", route.path(ids(world, "None")), headers, b"{bad"), 404, "not_found")


@pytest.mark.parametrize("inbound", ["abc", "req.1_2-3", "a" * 128])
def test_s1_1_well_formed_request_id_is_echoed_on_errors_and_successes(world: World, inbound: str) -> None:
    headers = {**world.client_headers, "X-Request-ID": inbound}
    failed = world.failing("POST", "/api/agents/None/heartbeat", headers)
    served = world.http.get(f"/api/agents/{world.own['agent_id']}/config", headers=headers)
    assert (failed.headers["x-request-id"], served.headers["x-request-id"]) == (inbound, inbound)


@pytest.mark.parametrize("inbound", ["a" * 129, "b" * 200, "has space", "semi;colon", "slash/id", ""])
def test_s1_1_malformed_request_id_is_replaced_by_a_new_uuid(world: World, inbound: str) -> None:
    response = world.failing("POST", "/api/agents/None/heartbeat", {**world.client_headers, "X-Request-ID": inbound})
    assert_error(response, 404, "not_found")
    assert str(uuid.UUID(response.headers["x-request-id"])) == response.headers["x-request-id"]
