from __future__ import annotations

from pathlib import Path

from tests import services
from tests.http_app import make_settings, reset_database
from tests.savings_reconciliation import check_savings_reconcile


async def test_lg5_savings_figures_of_every_route_reconcile_with_the_ledger_to_the_cent_on_the_integration_database(
    tmp_path: Path,
) -> None:
    """LG-5, LG-7, LG-8, §5.3: C18, C20, C21, M1, M5, M7 and M13 agree with the ledger (real app, MariaDB in CI)."""
    settings = make_settings(services.test_database_url(tmp_path), tmp_path)
    reset_database(settings)
    await check_savings_reconcile(settings)
