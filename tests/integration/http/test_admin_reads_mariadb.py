"""The admin read routes (M4, M6, M8 – M12) on the integration database (MariaDB when configured): the same
scenarios as the unit suite's SQLite run, so the SQL of the read views is proven on both engines.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests import services
from tests.unit.system import test_admin_read_routes as reads

SCENARIOS: list[Callable[[Path], Awaitable[None]]] = [
    reads.test_admin_reads_are_admin_realm_only,
    reads.test_m4_token_metadata_never_carries_the_token,
    reads.test_m6_growth_lists_the_snapshots_of_the_last_days_up_to_yesterday,
    reads.test_m8_lists_every_clients_instances_with_client_and_agent_names,
    reads.test_m9_lists_every_clients_agents_newest_heartbeat_first_with_filters,
    reads.test_m10_lists_system_events_of_the_window_newest_first,
    reads.test_m11_reports_jobs_counts_and_the_engine,
    reads.test_m12_search_is_literal_case_insensitive_and_ranks_exact_ids_first,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__.removeprefix("test_"))
async def test_admin_reads_on_the_integration_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: Callable[[Path], Awaitable[None]]
) -> None:
    monkeypatch.setattr(reads, "DATABASE_URL", services.test_database_url)
    await scenario(tmp_path)
