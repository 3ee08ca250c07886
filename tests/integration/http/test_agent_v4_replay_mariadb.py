"""Agent v4.0.0 wire contract (W01–W39) replayed against the real app on the integration database (MariaDB in CI)."""

from __future__ import annotations

from pathlib import Path

from tests import services
from tests.agent_v4.agent import replay_agent_v4
from tests.agent_v4.replicas import replay_agent_v4_replicas
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}


async def test_w01_to_w39_agent_v4_replay_on_the_integration_database(tmp_path: Path) -> None:
    settings = make_settings(services.test_database_url(tmp_path), tmp_path)
    reset_database(settings)
    async with app_client(settings) as client:
        await replay_agent_v4(client, ADMIN)
        await replay_agent_v4_replicas(client, ADMIN)
