"""The SAQ worker settings, built in one place.

Used by ``spotopt worker``, by the embedded worker of ``spotopt serve`` and by the ``saq`` command line
(``saq spotopt.entrypoints.worker.settings.saq_settings``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from dishka import Provider
from saq import CronJob

from spotopt.bootstrap.background import job_catalogue, make_queue
from spotopt.bootstrap.container import make_container
from spotopt.bootstrap.settings import Settings
from spotopt.entrypoints.worker.context import CONTAINER, STARTED, WorkerContext
from spotopt.entrypoints.worker.jobs import SCHEDULED_JOBS
from spotopt.entrypoints.worker.notification_jobs import ON_DEMAND_JOBS

log = logging.getLogger("spotopt.jobs")

DEFAULT_CONCURRENCY = 4
# SAQ's grace period waits for every worker task, idle ones included, so any value delays every shutdown by that
# much; 0 cancels running jobs at once, and SAQ queues them again (runs are idempotent, JB-1: see decorators.py).
SHUTDOWN_GRACE_SECONDS = 0


async def before_process(ctx: WorkerContext) -> None:
    ctx[STARTED] = time.monotonic()


async def after_process(ctx: WorkerContext) -> None:
    """The one log line per job run (house style §4)."""
    job = ctx.get("job")
    if job is None:
        return
    elapsed = int((time.monotonic() - ctx.get(STARTED, time.monotonic())) * 1000)
    error = ctx.get("exception")
    level = logging.WARNING if error is not None else logging.INFO
    outcome = f"failed ({type(error).__name__})" if error is not None else str(job.status.value)
    log.log(level, "job %s key=%s attempt=%d %s in %d ms", job.function, job.key, job.attempts, outcome, elapsed)


def worker_settings(
    settings: Settings,
    *overrides: Provider,
    concurrency: int = DEFAULT_CONCURRENCY,
    shutdown_grace_seconds: int = SHUTDOWN_GRACE_SECONDS,
) -> dict[str, Any]:
    """Queue from ``REDIS_URL``, the job functions, one cron job per scheduled job, the container hooks.

    ``startup`` builds this worker's container (SAQ merges it into every job's context); ``shutdown`` closes it.
    ``overrides`` are test providers (``override=True``).
    """
    catalogue = job_catalogue(settings)
    cron_jobs = [
        CronJob(function, cron=spec.schedule.cron, timeout=spec.timeout, retries=spec.retries)
        for name, function in SCHEDULED_JOBS.items()
        if (spec := catalogue.specs.get(name)) is not None and spec.schedule is not None
    ]

    async def startup(ctx: WorkerContext) -> None:
        ctx[CONTAINER] = make_container(settings, *overrides)

    async def shutdown(ctx: WorkerContext) -> None:
        container = ctx.get(CONTAINER)
        if container is not None:
            await container.close()

    return {
        "queue": make_queue(settings, catalogue),
        "functions": [(name.value, function) for name, function in {**SCHEDULED_JOBS, **ON_DEMAND_JOBS}.items()],
        "cron_jobs": cron_jobs,
        "concurrency": concurrency,
        "startup": startup,
        "shutdown": shutdown,
        "before_process": before_process,
        "after_process": after_process,
        "shutdown_grace_period_s": shutdown_grace_seconds,
    }


def saq_settings() -> dict[str, Any]:
    """For the ``saq`` command line, configured from the environment like ``spotopt worker``."""
    return worker_settings(Settings.from_env())
