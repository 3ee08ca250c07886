"""The savings reconciliation check (issue 8 "Done when"): a known history, then C18, C20, C21, M1, M5, M7 and M13
through the real HTTP app must agree with the ledger to the cent (JSON: 4 decimals; CSV: the ledger's 8, exactly).

Run by the unit suite on SQLite and by the integration suite on MariaDB (``SPOTOPT_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from dishka import Provider, Scope, provide
from sqlalchemy import delete

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.models.ledger import SavingsDailyModel
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.ledger.snapshot_savings import SnapshotSavings, SnapshotSavingsCommand
from spotopt.application.ports.system import Clock
from spotopt.bootstrap.settings import Settings
from spotopt.entrypoints.http.wire import num
from tests.factories.savings_history import DAY, FIRST_DAY, NOW, TODAY, expected_day, expected_total, seed_history
from tests.fakes.system import FixedClock
from tests.http_app import ADMIN_TOKEN, app_client

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
UNFINALISED = FIRST_DAY + 3 * DAY  # 03-11: its final snapshot is removed, so it is read from the ledger


class ClockProvider(Provider):
    def __init__(self, clock: FixedClock) -> None:
        super().__init__()
        self._clock = clock

    @provide(scope=Scope.APP, override=True)
    def clock(self) -> Clock:
        return self._clock


@asynccontextmanager
async def _uow(settings: Settings) -> AsyncIterator[SqlAlchemyUnitOfWork]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            yield SqlAlchemyUnitOfWork(session)
    finally:
        await engine.dispose()


def _money(value: Decimal) -> float | None:
    return num(value, 4)


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def check_savings_reconcile(settings: Settings) -> None:
    """Seed, finalise the past days with the snapshot job, drop one final snapshot, then read every figure."""
    async with _uow(settings) as uow:
        history = await seed_history(uow)
    async with _uow(settings) as uow:
        await SnapshotSavings(uow, FixedClock(NOW)).execute(SnapshotSavingsCommand())
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        d = SavingsDailyModel
        await session.execute(delete(d).where(d.client_id == history.client.client_id, d.day == UNFINALISED))
        await session.commit()
    await engine.dispose()

    a, b = history.client.client_id, history.other.client_id
    a_entries, b_entries = history.entries_of(a), history.entries_of(b)
    days = {FIRST_DAY + i * DAY: expected_day(a_entries, FIRST_DAY + i * DAY) for i in range(5)}
    total_a, total_b = expected_total(a_entries), expected_total(b_entries)
    last3 = sum((v for k, v in days.items() if k >= TODAY - 2 * DAY), Decimal(0))
    assert total_a == sum(days.values())
    assert total_a > 0
    assert days[TODAY] != 0
    token = {"Authorization": f"Bearer {a}"}

    async with app_client(settings, ClockProvider(FixedClock(NOW))) as client:
        c18 = (await client.get(f"/api/client/{a}/savings", headers=token)).json()
        assert c18["savings"] == _money(total_a)
        assert c18["total_savings"] == _money(total_a)
        assert c18["savings_today"] == _money(days[TODAY])
        assert c18["savings_month_to_date"] == _money(total_a)
        assert c18["final_through"] == (UNFINALISED - DAY).isoformat()
        assert c18["switch_count"] == 1
        assert (c18["from"], c18["to"]) == ((TODAY - 29 * DAY).isoformat(), TODAY.isoformat())
        c18_3 = (await client.get(f"/api/client/{a}/savings", params={"days": 3}, headers=token)).json()
        assert c18_3["savings"] == _money(last3)
        assert c18_3["total_savings"] == _money(total_a)

        charts = (await client.get(f"/api/client/{a}/stats/charts", headers=token)).json()
        points = {date.fromisoformat(p["date"]): p for p in charts["daily_savings"]}
        assert len(points) == 30
        for day, value in days.items():
            assert points[day]["savings"] == _money(value), day
            assert points[day]["final"] is (day < UNFINALISED)
        assert {"origin": "manual", "count": 1} in charts["switch_origins"]

        export = await client.get(f"/api/client/{a}/export/savings", headers=token)
        assert export.headers["content-type"].startswith("text/csv")
        rows = {date.fromisoformat(r["date"]): r for r in _csv(export.text)}
        for day, value in days.items():
            assert Decimal(rows[day]["savings"]) == value, day  # to the 8th decimal
        assert sum(Decimal(r["savings"]) for r in rows.values()) == total_a

        listed = (await client.get("/api/admin/clients", headers=ADMIN)).json()
        by_id: dict[str, Any] = {c["id"]: c for c in listed["clients"]}
        assert by_id[a]["total_savings"] == _money(total_a)
        assert by_id[b]["total_savings"] == _money(total_b)
        assert by_id[a]["agent_count"] == 2

        stats = (await client.get("/api/admin/stats", headers=ADMIN)).json()
        assert stats["total_savings"] == _money(total_a + total_b)
        assert (stats["primary_instances"], stats["standby_instances"], stats["total_agents"]) == (3, 1, 3)

        exported = await client.get("/api/admin/export/stats", params={"days": 3}, headers=ADMIN)
        per_client = {r["client_id"]: r for r in _csv(exported.text)}
        assert Decimal(per_client[a]["savings"]) == last3
        assert Decimal(per_client[a]["total_savings"]) == total_a
        assert Decimal(per_client[b]["total_savings"]) == total_b
        assert per_client[a]["switches"] == "1"

        created = await client.post("/api/admin/clients/create", json={"name": "Newcomer"}, headers=ADMIN)
        assert created.json()["client"]["total_savings"] == 0  # M1: read from the (empty) ledger
