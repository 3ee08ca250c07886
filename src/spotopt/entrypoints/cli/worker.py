"""``spotopt worker``: one SAQ worker process against the shared ``REDIS_URL``."""

from __future__ import annotations

import asyncio

import click

from spotopt.bootstrap.database import upgrade_database
from spotopt.bootstrap.settings import Settings
from spotopt.entrypoints.cli.logs import configure_logging
from spotopt.entrypoints.worker.runtime import run_worker
from spotopt.entrypoints.worker.settings import DEFAULT_CONCURRENCY, worker_settings

NO_REDIS = (
    "REDIS_URL is not set. `spotopt worker` processes jobs from a Redis/Valkey server shared with the API "
    "(for example REDIS_URL=redis://127.0.0.1:6379/0). For a single process without Redis, run `spotopt serve` "
    "alone: it starts an embedded Valkey and one in-process worker."
)
JOBS_OFF = "Background jobs are disabled (ENABLE_BACKGROUND_JOBS=false); refusing to start a worker."


def run_worker_process(settings: Settings, *, concurrency: int | None) -> None:
    if not settings.redis_url:
        raise click.ClickException(NO_REDIS)
    if not settings.enable_background_jobs:
        raise click.ClickException(JOBS_OFF)
    configure_logging(settings)
    if settings.is_embedded_database and settings.auto_migrate:
        upgrade_database(settings)
    click.echo(f"spotopt worker: queue {settings.job_queue_name!r} on REDIS_URL (stop with Ctrl-C or SIGTERM)")
    asyncio.run(run_worker(worker_settings(settings, concurrency=concurrency or DEFAULT_CONCURRENCY)))
