from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select

from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.notifications import SystemEventModel
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database
from tests.services import sqlite_url

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_m1_creates_client_and_shows_token_once(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    async with app_client(settings) as client:
        response = await client.post(
            "/api/admin/clients/create", json={"name": "Acme", "email": "Ops@Acme.io"}, headers=ADMIN
        )
        assert response.status_code == 201
        body = response.json()
        assert body["success"] is True
        assert body["client_token"].startswith("spo_")
        assert len(body["client_token"]) == 4 + 43
        assert body["client"]["email"] == "ops@acme.io"
        assert body["client"]["token_hint"] == body["client_token"][-4:]
        assert response.headers["x-request-id"]

        duplicate = await client.post("/api/admin/clients/create", json={"name": "ACME"}, headers=ADMIN)
        assert duplicate.status_code == 409
        assert duplicate.json()["detail"]["code"] == "duplicate_name"


async def test_admin_routes_reject_missing_wrong_and_client_tokens(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    async with app_client(settings) as client:
        missing = await client.post("/api/admin/clients/create", json={"name": "x"})
        assert missing.status_code == 401
        assert missing.json()["detail"]["code"] == "missing_token"
        wrong = await client.post(
            "/api/admin/clients/create", json={"name": "x"}, headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["detail"]["code"] == "invalid_token"
        created = await client.post("/api/admin/clients/create", json={"name": "x"}, headers=ADMIN)
        token = created.json()["client_token"]
        realm = await client.post(
            "/api/admin/clients/create", json={"name": "y"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert realm.status_code == 403
        assert realm.json()["detail"]["code"] == "wrong_realm"


async def test_m3_rotation_invalidates_previous_token(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    async with app_client(settings) as client:
        created = (await client.post("/api/admin/clients/create", json={"name": "Acme"}, headers=ADMIN)).json()
        client_id = created["client"]["id"]
        rotated = await client.post(f"/api/admin/clients/{client_id}/regenerate-token", headers=ADMIN)
        assert rotated.status_code == 200
        assert rotated.json()["client_token"] != created["client_token"]
        unknown = await client.post("/api/admin/clients/nope/regenerate-token", headers=ADMIN)
        assert unknown.status_code == 404
        assert unknown.json() == {"error": "Client not found", "status_code": 404, "detail": {"code": "not_found"}}


async def test_bad_input_gets_json_errors_never_html(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    async with app_client(settings) as client:
        malformed = await client.post(
            "/api/admin/clients/create", content=b"{bad", headers={**ADMIN, "Content-Type": "application/json"}
        )
        assert malformed.status_code == 400
        assert malformed.json()["detail"]["code"] == "malformed_json"
        wrong_type = await client.post("/api/admin/clients/create", json={"name": 5}, headers=ADMIN)
        assert wrong_type.status_code == 400
        assert wrong_type.json()["detail"] == {
            "code": "validation_error",
            "field": "name",
            "reason": "Expected `str`, got `int`",
        }
        unknown_field = await client.post("/api/admin/clients/create", json={"name": "a", "x": 1}, headers=ADMIN)
        assert unknown_field.status_code == 400
        too_big = await client.post(
            "/api/admin/clients/create",
            content=b'{"name": "' + b"a" * (1024 * 1024) + b'"}',
            headers={**ADMIN, "Content-Type": "application/json"},
        )
        assert too_big.status_code == 413
        assert too_big.json()["detail"]["code"] == "payload_too_large"
        form = await client.post(
            "/api/admin/clients/create", content=b"name=a", headers={**ADMIN, "Content-Type": "text/plain"}
        )
        assert form.status_code == 415
        nowhere = await client.get("/api/nowhere")
        assert nowhere.status_code == 404
        assert nowhere.headers["content-type"].startswith("application/json")
        method = await client.get("/api/admin/clients/create", headers=ADMIN)
        assert method.status_code == 405
        assert "POST" in method.headers["allow"]


async def test_auth_failed_is_recorded_once_per_source_per_minute_without_the_token(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    bad = "spo_" + "x" * 43
    async with app_client(settings) as client:
        for _ in range(3):
            response = await client.get("/api/agents/a/config", headers={"Authorization": f"Bearer {bad}"})
            assert response.status_code == 401
    engine = create_engine(settings.database_url.replace("+aiosqlite", ""))
    with engine.connect() as conn:
        system_events = table_of(SystemEventModel)
        rows = conn.execute(select(system_events).where(system_events.c.type == "auth_failed")).mappings().all()
    engine.dispose()
    assert len(rows) == 1
    assert rows[0]["metadata"]["reason"] == "invalid_token"
    assert rows[0]["metadata"]["path"] == "/api/agents/a/config"
    assert bad not in rows[0]["message"]
    assert bad not in str(rows[0]["metadata"])
