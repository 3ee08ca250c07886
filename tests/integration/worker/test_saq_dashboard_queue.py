"""The job-queue dashboard over a real queue (Redis in CI, else an embedded Valkey)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from spotopt.application.jobs.names import JobName, run_key
from spotopt.application.ports.system import JobQueue
from spotopt.bootstrap.container import make_container
from spotopt.bootstrap.settings import Settings
from tests.http_app import ADMIN_TOKEN, app_client

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_dashboard_lists_queued_jobs_and_aborts_one(job_settings: Callable[..., Settings]) -> None:
    settings = job_settings()
    tick = datetime(2026, 11, 28, 9, 0, 30, tzinfo=UTC)
    key = run_key(JobName.MONITOR_AGENT_HEALTH, tick)
    container = make_container(settings)
    try:
        assert await (await container.get(JobQueue)).run_health_monitor(tick)
        assert not await (await container.get(JobQueue)).run_health_monitor(tick)  # same key: already waiting
    finally:
        await container.close()
    name = settings.job_queue_name

    async with app_client(settings) as client:
        queues = (await client.get("/saq/api/queues", headers=ADMIN)).json()
        queue = (await client.get(f"/saq/api/queues/{name}", headers=ADMIN)).json()
        detail = (await client.get(f"/saq/api/queues/{name}/jobs/{key}", headers=ADMIN)).json()
        aborted = await client.post(f"/saq/api/queues/{name}/jobs/{key}/abort", headers=ADMIN)
        after = (await client.get(f"/saq/api/queues/{name}/jobs/{key}", headers=ADMIN)).json()
        unknown = await client.get("/saq/api/queues/other-queue", headers=ADMIN)

    assert [q["name"] for q in queues["queues"]] == [name]
    assert queue["queue"]["queued"] == 1
    assert [j["key"] for j in queue["queue"]["jobs"]] == [key]
    assert detail["job"]["function"] == "monitor_agent_health"
    assert detail["job"]["kwargs"] == repr({"tick": "2026-11-28T09:00:30Z"})
    assert aborted.status_code == 200
    assert after["job"]["status"] == "aborted"
    assert unknown.status_code == 404
