"""The HTTP edge of C18 – C22, M5, M7, M13: tenancy, validated windows and paging, CSV shape and formula guard."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from tests.factories.commands import make_switch
from tests.factories.savings_history import NOW, seed_history
from tests.fakes.system import FixedClock
from tests.http_app import app_client, make_settings, reset_database
from tests.savings_reconciliation import ADMIN, ClockProvider
from tests.services import sqlite_url

Seeded = tuple[AsyncTestClient[Litestar], str, str]
CLIENT_ROUTES = ["savings", "switch-history", "stats/charts", "export/savings", "export/history"]


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Seeded]:
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        uow = SqlAlchemyUnitOfWork(session)
        history = await seed_history(uow)
        agent = history.agents[0]
        await uow.switches.add(make_switch(agent, logical_agent_id="=HYPERLINK(1)", received_at=NOW, origin="api"))
        await uow.commit()
    await engine.dispose()
    async with app_client(settings, ClockProvider(FixedClock(NOW))) as client:
        yield client, history.client.client_id, history.other.client_id


@pytest.mark.parametrize("route", CLIENT_ROUTES)
async def test_cl4_another_clients_path_is_403_client_mismatch(seeded: Seeded, route: str) -> None:
    client, mine, theirs = seeded
    response = await client.get(f"/api/client/{theirs}/{route}", headers={"Authorization": f"Bearer {mine}"})
    assert response.status_code == 403
    assert response.json()["detail"] == {"code": "client_mismatch"}
    admin = await client.get(f"/api/client/{mine}/{route}", headers=ADMIN)
    assert admin.json()["detail"]["code"] == "wrong_realm"


@pytest.mark.parametrize("route", CLIENT_ROUTES)
@pytest.mark.parametrize("days", ["0", "366", "1.5"])
async def test_s1_8_days_outside_1_to_365_is_400_naming_days(
    seeded: Seeded,
    route: str,
    days: str,
) -> None:
    client, mine, _ = seeded
    response = await client.get(
        f"/api/client/{mine}/{route}", params={"days": days}, headers={"Authorization": f"Bearer {mine}"}
    )
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "validation_error"
    assert response.json()["detail"]["field"] == "days"


@pytest.mark.parametrize(("params", "field"), [({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"),
                                               ({"offset": "-1"}, "offset"), ({"origin": "agent,bogus"}, "origin")])  # fmt: skip
async def test_c19_paging_and_origin_are_validated(
    seeded: Seeded,
    params: dict[str, str],
    field: str,
) -> None:
    client, mine, _ = seeded
    response = await client.get(
        f"/api/client/{mine}/switch-history", params=params, headers={"Authorization": f"Bearer {mine}"}
    )
    assert response.status_code == 400
    assert response.json()["detail"]["field"] == field


async def test_c19_c22_switch_records_newest_first_and_csv_guards_formulas(
    seeded: Seeded,
) -> None:
    client, mine, _ = seeded
    token = {"Authorization": f"Bearer {mine}"}
    body = (await client.get(f"/api/client/{mine}/switch-history", headers=token)).json()
    assert body["total"] == 2
    assert [s["origin"] for s in body["history"]] == ["api", "manual"]
    first = body["history"][1]
    assert set(first) >= {"id", "old", "new", "timing", "hourly_delta", "received_at", "applied", "logical_agent_id"}
    assert first["hourly_delta"] == pytest.approx(0.0125 - 0.0416)
    only_api = (await client.get(f"/api/client/{mine}/switch-history", params={"origin": "api"}, headers=token)).json()
    assert only_api["total"] == 1

    export = await client.get(f"/api/client/{mine}/export/history", headers=token)
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert export.headers["content-disposition"] == f'attachment; filename="switch-history-{mine}-20260312.csv"'
    assert export.content.endswith(b"\r\n")
    assert not export.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert rows[0]["logical_agent_id"] == "'=HYPERLINK(1)"  # §1.12 formula guard
    assert len(rows) == 2

    savings = await client.get(f"/api/client/{mine}/export/savings", params={"days": 7}, headers=token)
    assert savings.headers["content-disposition"] == f'attachment; filename="savings-{mine}-20260312.csv"'
    assert len(list(csv.DictReader(io.StringIO(savings.text)))) == 7


async def test_m5_m13_validate_their_queries(seeded: Seeded) -> None:
    client, mine, _ = seeded
    bad_status = await client.get("/api/admin/clients", params={"status": "gone"}, headers=ADMIN)
    assert bad_status.status_code == 400
    assert bad_status.json()["detail"]["field"] == "status"
    active = (await client.get("/api/admin/clients", params={"status": "active", "limit": 1}, headers=ADMIN)).json()
    assert active["total"] == 2
    assert len(active["clients"]) == 1
    bad_days = await client.get("/api/admin/export/stats", params={"days": "0"}, headers=ADMIN)
    assert bad_days.json()["detail"]["field"] == "days"
    stats = await client.get("/api/admin/export/stats", headers=ADMIN)
    assert stats.headers["content-disposition"] == 'attachment; filename="spotopt-stats-20260312.csv"'
    client_token = await client.get("/api/admin/stats", headers={"Authorization": f"Bearer {mine}"})
    assert client_token.json()["detail"]["code"] == "wrong_realm"
