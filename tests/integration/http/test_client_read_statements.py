"""C3 and C10 cost a pinned number of SQL statements per page, whatever the page size (no N+1)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from tests import services
from tests.http_app import app_client, make_settings, reset_database
from tests.integration.http.test_client_reads import new_tenant
from tests.integration.http.test_heartbeat_statements import traffic

# The guard's client read, then: C3 count, page, the page's live replicas; C10 count, page (joins included).
C3_STATEMENTS = 4
C10_STATEMENTS = 3


async def test_c3_and_c10_statement_counts_do_not_grow_with_the_page(tmp_path: Path) -> None:
    # The token cache off, so every request pays its one token lookup and the counts do not depend on timing.
    settings = make_settings(services.test_database_url(tmp_path), tmp_path, token_cache_ttl=0.0)
    reset_database(settings)
    async with app_client(settings) as client:
        tenant = await new_tenant(client, "counted", 6)
        engine = await client.app.state.dishka_container.get(AsyncEngine)
        counts: dict[tuple[str, int], int] = {}
        for route in ("agents", "instances"):
            for limit in (1, 6):
                with traffic(engine) as seen:
                    answer = await client.get(
                        f"/api/client/{tenant.client_id}/{route}", headers=tenant.headers, params={"limit": limit}
                    )
                assert answer.status_code == 200, answer.text
                assert len(answer.json()[route]) == limit
                assert all(sql.startswith("SELECT") for sql in seen.statements), seen.statements
                counts[(route, limit)] = len(seen.statements)

    assert counts == {
        ("agents", 1): C3_STATEMENTS,
        ("agents", 6): C3_STATEMENTS,
        ("instances", 1): C10_STATEMENTS,
        ("instances", 6): C10_STATEMENTS,
    }
