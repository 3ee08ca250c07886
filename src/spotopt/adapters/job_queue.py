"""The SAQ queue: enqueue side of the ``JobQueue`` port, and the policy every enqueued job gets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from redis import asyncio as aioredis
from redis.exceptions import RedisError
from saq import Job, Queue
from saq.queue.redis import RedisQueue

from spotopt.application.jobs.names import JobName, run_key
from spotopt.application.jobs.schedule import JobSpec
from spotopt.domain.shared.time import utc_iso

log = logging.getLogger("spotopt.jobs")

SAQ_CRON_KEY_PREFIX = "cron:"
CONNECT_TIMEOUT_SECONDS = 2.0
OUTAGE_RETRY_SECONDS = 1.0


class JobPolicy:
    """A ``before_enqueue`` hook applying the job catalogue to every job enqueued on a queue.

    - A SAQ cron job (key ``cron:<function>``) becomes the run of one tick: key ``<job>:<tick>`` and a ``tick``
      argument (JB-1). Each tick is its own job, so a tick waiting for a retry never holds back the next one.
    - Timeout, attempts and retry back-off come from the job's spec.
    """

    def __init__(self, specs: Mapping[JobName, JobSpec]) -> None:
        self._specs = {name.value: spec for name, spec in specs.items()}

    async def __call__(self, job: Job) -> None:
        if job.key.startswith(SAQ_CRON_KEY_PREFIX):
            tick = datetime.fromtimestamp(job.scheduled, UTC)
            job.key = run_key(job.function, tick)
            job.kwargs = {**(job.kwargs or {}), "tick": utc_iso(tick)}
        spec = self._specs.get(job.function)
        if spec is not None:
            job.timeout = spec.timeout
            job.retries = spec.retries
            job.retry_delay = spec.retry_delay
            job.retry_backoff = spec.retry_backoff


class OutageTolerantRedisQueue(RedisQueue):
    """A SAQ Redis queue whose workers wait out a Redis outage.

    SAQ's worker loop starts the next dequeue as soon as one fails, so with Redis down every worker slot spins on
    connection errors at full CPU. Here a failed dequeue waits a moment and reports "no job"; the worker keeps
    running and picks jobs up again by itself once Redis is back.
    """

    _unreachable = False

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:  # noqa: ASYNC109 - SAQ API
        try:
            job = await super().dequeue(timeout, poll_interval)
        except (RedisError, OSError) as exc:
            if not self._unreachable:
                log.warning("job queue unreachable (%s); waiting for it to return", type(exc).__name__)
            self._unreachable = True
            await asyncio.sleep(OUTAGE_RETRY_SECONDS)
            return None
        if self._unreachable:
            self._unreachable = False
            log.info("job queue reachable again")
        return job


def create_queue(url: str, *, name: str, specs: Mapping[JobName, JobSpec]) -> Queue:
    """A Redis-backed SAQ queue. Nothing connects until the first command, so a Redis outage never fails start-up."""
    queue = OutageTolerantRedisQueue(aioredis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS), name=name)
    queue.register_before_enqueue(JobPolicy(specs))
    return queue


class SaqJobQueue:
    """``JobQueue`` over a SAQ queue; ``queue=None`` when no Redis is configured (jobs are then dropped, logged)."""

    def __init__(self, queue: Queue | None) -> None:
        self._queue = queue

    async def run_health_monitor(self, tick: datetime) -> bool:
        job = JobName.MONITOR_AGENT_HEALTH
        return await self._enqueue(job, run_key(job, tick), tick=utc_iso(tick))

    async def _enqueue(self, job: JobName, key: str, **kwargs: object) -> bool:
        if self._queue is None:
            log.warning("no job queue is configured; %s was not enqueued", key)
            return False
        try:
            return await self._queue.enqueue(job.value, key=key, **kwargs) is not None
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("job queue unavailable; %s was not enqueued (%s)", key, type(exc).__name__)
            return False
