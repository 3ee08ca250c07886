from __future__ import annotations

import base64
from pathlib import Path

import pytest

from spotopt.bootstrap.settings import Settings
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database
from tests.services import sqlite_url

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def basic(password: str, user: str = "admin") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    built = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(built)
    return built


async def test_dashboard_asks_a_browser_to_log_in_without_the_admin_token(settings: Settings) -> None:
    async with app_client(settings) as client:
        missing = await client.get("/saq/")
        wrong = await client.get("/saq/", headers=basic("not-the-token"))

    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith('Basic realm="spotopt job queue"')
    assert missing.json()["detail"]["code"] == "missing_token"
    assert wrong.json()["detail"]["code"] == "invalid_token"


async def test_dashboard_opens_with_the_admin_token_as_basic_password_or_bearer(settings: Settings) -> None:
    async with app_client(settings) as client:
        browser = await client.get("/saq/", headers=basic(ADMIN_TOKEN, user="anyone"))
        api = await client.get("/saq/queues/spotopt", headers=ADMIN)
        bare = await client.get("/saq", headers=ADMIN, follow_redirects=False)

    assert browser.status_code == 200
    assert browser.headers["content-type"].startswith("text/html")
    assert 'const root_path = "/saq"' in browser.text
    assert api.status_code == 200
    assert bare.status_code in {301, 302, 307, 308}
    assert bare.headers["location"].endswith("/saq/")


async def test_dashboard_refuses_client_tokens(settings: Settings) -> None:
    async with app_client(settings) as client:
        created = await client.post("/api/admin/clients/create", json={"name": "Acme"}, headers=ADMIN)
        token = created.json()["client_token"]
        response = await client.get("/saq/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "wrong_realm"


async def test_dashboard_api_is_unavailable_without_a_job_queue(settings: Settings) -> None:
    async with app_client(settings) as client:
        response = await client.get("/saq/api/queues", headers=ADMIN)

    assert response.status_code == 503
    assert response.json()["detail"]["dependency"] == "job_queue"


async def test_dashboard_serves_saq_assets_compressed_or_plain(settings: Settings) -> None:
    async with app_client(settings) as client:
        script = await client.get("/saq/static/app.js", headers=ADMIN)
        packed = await client.get("/saq/static/pico.min.css", headers={**ADMIN, "Accept-Encoding": "gzip"})
        plain = await client.get("/saq/static/pico.min.css", headers={**ADMIN, "Accept-Encoding": "identity"})
        unknown = await client.get("/saq/static/settings.py", headers=ADMIN)

    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert packed.text == plain.text
    assert plain.headers["content-type"].startswith("text/css")
    assert unknown.status_code == 404


async def test_h1_dashboard_routes_are_not_counted_as_api_endpoints(settings: Settings) -> None:
    async with app_client(settings) as client:
        health = await client.get("/health")
        docs = await client.get("/docs/openapi.json")

    assert not any(path.startswith("/saq") for path in docs.json()["paths"])
    assert health.json()["components"]["background_jobs"] == "disabled"
