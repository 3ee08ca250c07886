"""Turn "open a scope, run a use case, summarise" into SAQ job functions (house style §10, domain §7.1).

A scheduled job body is ``async def body(scope, tick) -> summary``; ``@scheduled(JobName.X)`` wraps it into:
claim the tick (JB-1) → run the body in its own REQUEST scope → record the run (JB-4) → on failure emit
``job_failed`` and re-raise so SAQ retries with back-off (JB-3). Bodies run their use cases with
``entrypoints.running`` (the CC-5 rule, as HTTP and the CLI do). Business-rule errors are reported, not retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

import msgspec
from dishka import AsyncContainer

from spotopt.application.jobs.names import JobName, RunStatus
from spotopt.application.jobs.schedule import JobCatalogue
from spotopt.application.ports.system import Clock, JobRuns
from spotopt.application.system.record_job_failure import RecordJobFailure, RecordJobFailureCommand
from spotopt.domain.shared.errors import DomainError
from spotopt.domain.shared.time import utc_iso
from spotopt.entrypoints.running import run_in_new_scope
from spotopt.entrypoints.worker.context import CONTAINER, WorkerContext
from spotopt.entrypoints.worker.payloads import TickPayload

log = logging.getLogger("spotopt.jobs")

P = TypeVar("P", bound=msgspec.Struct)
Summary = dict[str, object]
ScheduledBody = Callable[[AsyncContainer, datetime], Awaitable[Mapping[str, object]]]
JobFunction = Callable[..., Coroutine[Any, Any, Summary]]
_ERROR_TEXT = 300


def describe_error(exc: BaseException) -> str:
    """A one-line error for job-run rows and ``job_failed``: no SQL, parameters or secrets (NT-6)."""
    if isinstance(exc, DomainError):
        return f"{exc.code}: {exc.message}"[:_ERROR_TEXT]
    first = (str(exc).splitlines() or [""])[0]
    for marker in ("[SQL", "[parameters", "(Background on"):
        first = first.split(marker, 1)[0]
    return f"{type(exc).__name__}: {first.strip()}".rstrip(": ")[:_ERROR_TEXT]


def _named(function: JobFunction, name: JobName) -> JobFunction:
    # SAQ registers cron functions under their __qualname__, so it must be the job name.
    function.__name__ = function.__qualname__ = name.value
    return function


def scheduled(name: JobName) -> Callable[[ScheduledBody], JobFunction]:
    """A job run once per tick of its schedule across all workers (JB-1), recorded in a job-run row (JB-4)."""

    def decorate(body: ScheduledBody) -> JobFunction:
        async def job(ctx: WorkerContext, **kwargs: Any) -> Summary:
            return await _run_tick(ctx, name, body, kwargs)

        return _named(job, name)

    return decorate


def on_demand(
    name: JobName, payload: type[P]
) -> Callable[[Callable[[AsyncContainer, P], Awaitable[Summary]]], JobFunction]:
    """A job enqueued by a use case: kwargs validated into ``payload``, body run in its own REQUEST scope."""

    def decorate(body: Callable[[AsyncContainer, P], Awaitable[Summary]]) -> JobFunction:
        async def job(ctx: WorkerContext, **kwargs: Any) -> Summary:
            args = msgspec.convert(kwargs, payload)
            try:
                async with ctx[CONTAINER]() as scope:
                    return await body(scope, args)
            except DomainError as exc:
                return {"error": describe_error(exc)}

        return _named(job, name)

    return decorate


async def _claim(
    container: AsyncContainer, name: JobName, kwargs: Mapping[str, Any], attempts: int
) -> tuple[datetime, str | None]:
    """The tick this run belongs to, and why it must not run (None once claimed; JB-1, JB-2)."""
    runs, clock = await container.get(JobRuns), await container.get(Clock)
    spec = (await container.get(JobCatalogue)).specs[name]
    requested = msgspec.convert(kwargs, TickPayload).tick
    now = clock.now()
    tick = requested or (spec.schedule.tick_at_or_before(now) if spec.schedule else now)
    if spec.schedule is not None and now - tick > timedelta(seconds=spec.schedule.every + spec.timeout):
        return tick, "missed tick, not replayed"  # JB-2, e.g. a run left queued across a restart
    claimed = await runs.claim(name, tick, now) or (
        attempts > 1 and await runs.reclaim(name, tick, now, stale_before=now - timedelta(seconds=spec.timeout))
    )
    return tick, None if claimed else "another worker ran this tick"


async def _run_tick(ctx: WorkerContext, name: JobName, body: ScheduledBody, kwargs: Mapping[str, Any]) -> Summary:
    container, job = ctx[CONTAINER], ctx.get("job")
    attempts = job.attempts if job is not None else 1
    tick, skipped = await _claim(container, name, kwargs, attempts)
    if skipped is not None:
        return {"tick": utc_iso(tick), "skipped": skipped}
    run = _Run(container, await container.get(JobRuns), await container.get(Clock), name, tick, attempts)
    try:
        async with container() as scope:
            summary = dict(await body(scope, tick))
    except DomainError as exc:
        await run.failed(exc, final=True)
        return {"tick": utc_iso(tick), "error": describe_error(exc)}
    except asyncio.CancelledError:
        await run.finish(RunStatus.ERROR, {"error": "cancelled (worker shutdown or timeout)"})
        raise
    except Exception as exc:
        await run.failed(exc, final=job is None or not job.retryable)
        raise
    await run.finish(RunStatus.OK, summary)
    return {"tick": utc_iso(tick), **summary}


class _Run:
    """Records the outcome of one claimed run; recording never hides the job's own error."""

    def __init__(
        self, container: AsyncContainer, runs: JobRuns, clock: Clock, name: JobName, tick: datetime, attempts: int
    ) -> None:
        self._container, self._runs, self._clock = container, runs, clock
        self._name, self._tick, self._attempts = name, tick, attempts
        self._started = time.monotonic()

    async def finish(self, status: RunStatus, summary: Mapping[str, object]) -> None:
        elapsed = int((time.monotonic() - self._started) * 1000)
        try:
            await self._runs.finish(
                self._name, self._tick, status=status, now=self._clock.now(), duration_ms=elapsed, summary=summary
            )
        except Exception:
            log.exception("could not record the run of %s for %s", self._name, utc_iso(self._tick))

    async def failed(self, exc: BaseException, *, final: bool) -> None:
        """JB-3: the row says ``error``; the run that gives up (no retry left) also emits ``job_failed``."""
        error = describe_error(exc)
        await self.finish(RunStatus.ERROR, {"error": error, "attempts": self._attempts})
        if not final:
            log.warning(
                "%s for %s failed (attempt %d), retrying: %s", self._name, utc_iso(self._tick), self._attempts, error
            )
            return
        command = RecordJobFailureCommand(job=self._name, tick=self._tick, error=error, attempts=self._attempts)
        try:
            await run_in_new_scope(self._container, RecordJobFailure, lambda uc: uc.execute(command))
        except Exception:
            log.exception("could not record the failure of %s for %s", self._name, utc_iso(self._tick))
