"""Per-token rate limits, failed-auth throttling and secret-free logs (api.md §1.2, §1.5, §1.9)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.agent_v4.agent import register_body
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database
from tests.services import sqlite_url

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TEST_CLIENT_LOGGERS = ("httpx", "httpcore")  # the test's own HTTP client logs the URLs it sends


async def _client_token(client: object, name: str) -> str:
    created = await client.post("/api/admin/clients/create", json={"name": name}, headers=ADMIN)  # type: ignore[attr-defined]
    assert created.status_code == 201, created.text
    token: str = created.json()["client_token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_429(response: object) -> None:
    """§1.5 / §1.9: JSON body, ``Retry-After`` seconds equal to ``detail.retry_after_seconds``."""
    assert response.status_code == 429, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["detail"]["code"] == "rate_limited"
    assert body["status_code"] == 429
    retry = int(response.headers["retry-after"])  # type: ignore[attr-defined]
    assert 1 <= retry <= 60
    assert body["detail"]["retry_after_seconds"] == retry


async def test_s1_9_agent_bucket_is_per_client_token_and_spares_the_signal_routes(tmp_path: Path) -> None:
    """§1.9: the per-credential limit counts one token only; R8, R9 and A10 are exempt."""
    settings = make_settings(sqlite_url(tmp_path), tmp_path, agent_rate_limit=3)
    reset_database(settings)
    async with app_client(settings) as client:
        first, second = await _client_token(client, "first"), await _client_token(client, "second")
        for _ in range(3):
            assert (await client.get("/api/agents/nope/config", headers=_bearer(first))).status_code == 404
        _assert_429(await client.get("/api/agents/nope/config", headers=_bearer(first)))
        assert (await client.get("/api/agents/nope/config", headers=_bearer(second))).status_code == 404
        exempt = await client.post(
            "/api/agents/nope/termination-imminent", json={"instance_id": "i-0123abcd"}, headers=_bearer(first)
        )
        assert exempt.status_code == 404, exempt.text


async def test_s1_9_admin_bucket_is_per_admin_token(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), tmp_path, admin_rate_limit=2)
    reset_database(settings)
    async with app_client(settings) as client:
        for _ in range(2):
            assert (await client.post("/api/admin/clients/nope/regenerate-token", headers=ADMIN)).status_code == 404
        _assert_429(await client.post("/api/admin/clients/nope/regenerate-token", headers=ADMIN))


async def test_s1_9_failed_auth_from_one_peer_is_throttled_before_any_token_lookup(tmp_path: Path) -> None:
    """§1.9 / §1.5 step 3: after the failed-auth limit, the peer gets 429 even with a valid token."""
    settings = make_settings(sqlite_url(tmp_path), tmp_path, auth_failure_limit=3)
    reset_database(settings)
    async with app_client(settings) as client:
        valid = await _client_token(client, "valid")
        for _ in range(3):
            bad = await client.get("/api/agents/a/config", headers=_bearer("spo_" + "x" * 43))
            assert bad.status_code == 401
        _assert_429(await client.get("/api/agents/a/config", headers=_bearer(valid)))
        _assert_429(await client.post("/api/admin/clients/create", json={"name": "n"}, headers=ADMIN))


async def test_s1_2_cl1_no_token_ever_reaches_the_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """CL-1, §1.2: requests carrying client and admin tokens (header, body fallback, unknown, wrong realm, failing
    validation) are logged, and no token appears in any log record.
    """
    caplog.set_level(logging.DEBUG)
    settings = make_settings(sqlite_url(tmp_path), tmp_path, debug=True)
    reset_database(settings)
    unknown = "spo_" + "u" * 43
    async with app_client(settings) as client:
        token = await _client_token(client, "logged")
        registered = await client.post("/api/agents/register", json=register_body(token))
        assert registered.status_code == 201, registered.text
        agent_id = registered.json()["agent_id"]
        await client.post(f"/api/agents/{agent_id}/heartbeat", json={"status": "nope"}, headers=_bearer(token))
        await client.get(f"/api/agents/{agent_id}/config", headers=_bearer(unknown))
        await client.get(f"/api/agents/{agent_id}/config?token={token}", headers=_bearer(token))
        await client.post("/api/admin/clients/create", json={"name": "x"}, headers=_bearer(token))
        await client.get(f"/api/agents/{agent_id}/config", headers=ADMIN)
    server = [r for r in caplog.records if not r.name.startswith(TEST_CLIENT_LOGGERS)]
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in server)
    assert f"/api/agents/{agent_id}/config" in logged, "every request is logged once (access log)"
    for secret in (token, unknown, ADMIN_TOKEN):
        assert secret not in logged
        assert secret[-12:] not in logged
