from __future__ import annotations

from pathlib import Path

from tests.http_app import make_settings, reset_database
from tests.savings_reconciliation import check_savings_reconcile
from tests.services import sqlite_url


async def test_lg5_savings_figures_of_every_route_reconcile_with_the_ledger_to_the_cent_on_sqlite(
    tmp_path: Path,
) -> None:
    """LG-5, LG-7, LG-8, §5.3: C18, C20, C21, M1, M5, M7 and M13 agree with the ledger (real app, SQLite)."""
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    await check_savings_reconcile(settings)
