"""Job-run rows (JB-1, JB-4) and the health probes that read them and the database (H1).

Each job-run call is its own short transaction on its own session, outside any use case's; it commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, and_, case, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.system import JobRunModel
from spotopt.adapters.persistence.types import UTCDateTime
from spotopt.application.jobs.names import JobName, JobRun, RunStatus
from spotopt.application.jobs.schedule import BackgroundJobs, JobActivity, JobSpec, assess_background_jobs

PROBE_TIMEOUT_SECONDS = 2.0
_J = JobRunModel


class SqlAlchemyJobRuns:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def claim(self, job: str, tick: datetime, now: datetime) -> bool:
        row = {"job": job, "tick": tick, "status": RunStatus.RUNNING.value, "started_at": now}
        async with self._sessionmaker() as session:
            try:
                await session.execute(insert(table_of(_J)).values(**row))
                await session.commit()
            except IntegrityError:  # the (job, tick) key: another worker has this tick
                return False
        return True

    async def reclaim(self, job: str, tick: datetime, now: datetime, *, stale_before: datetime) -> bool:
        takeover = or_(
            _J.status == RunStatus.ERROR.value,
            and_(_J.status == RunStatus.RUNNING.value, _J.started_at < stale_before),
        )
        stmt = (
            update(table_of(_J))
            .where(_J.job == job, _J.tick == tick, takeover)
            .values(status=RunStatus.RUNNING.value, started_at=now, finished_at=None, duration_ms=None, summary=None)
        )
        async with self._sessionmaker() as session:
            result: Any = await session.execute(stmt)
            await session.commit()
        return bool(result.rowcount == 1)

    async def finish(
        self, job: str, tick: datetime, *, status: str, now: datetime, duration_ms: int, summary: Mapping[str, object]
    ) -> None:
        stmt = (
            update(table_of(_J))
            .where(_J.job == job, _J.tick == tick)
            .values(status=status, finished_at=now, duration_ms=duration_ms, summary=dict(summary))
        )
        async with self._sessionmaker() as session:
            await session.execute(stmt)
            await session.commit()

    async def last_runs(self) -> Sequence[JobRun]:
        newest = select(_J.job, func.max(_J.tick).label("tick")).group_by(_J.job).subquery()
        stmt = (
            select(table_of(_J)).join(newest, and_(_J.job == newest.c.job, _J.tick == newest.c.tick)).order_by(_J.job)
        )
        async with self._sessionmaker() as session:
            rows = (await session.execute(stmt)).all()
        return [_to_run(row) for row in rows]


def _to_run(row: Row[Any]) -> JobRun:
    return JobRun(
        job=row.job,
        tick=row.tick,
        status=RunStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_ms=row.duration_ms,
        summary=row.summary or {},
    )


async def read_activity(conn: AsyncConnection) -> JobActivity:
    """Newest and oldest run start and every job's newest tick that did not fail, in one query (H1 monitor).

    A failed run counts as a missed tick, so a job that keeps failing turns ``background_jobs`` to ``stalled``
    after two ticks and the failure shows in /health (issue 4), not only on the dashboard.
    """
    not_failed = case((_J.status != RunStatus.ERROR.value, _J.tick))
    stmt = select(
        _J.job,
        func.max(not_failed, type_=UTCDateTime()).label("tick"),
        func.max(_J.started_at).label("last"),
        func.min(_J.started_at),
    ).group_by(_J.job)
    rows = (await conn.execute(stmt)).all()
    return JobActivity(
        last_started_at=max((r[2] for r in rows), default=None),
        first_started_at=min((r[3] for r in rows), default=None),
        last_ticks={r[0]: _aware(r[1]) for r in rows if r[1] is not None},
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class SqlAlchemyDatabaseProbe:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True


class SqlAlchemyJobMonitor:
    """H1 ``background_jobs`` from the job-run rows, so it reflects workers in any process.

    ``running`` when a run started in the last 60 s and no scheduled job missed more than two consecutive ticks;
    ``disabled`` when jobs are switched off; ``stalled`` otherwise, or when the rows cannot be read.
    """

    def __init__(self, engine: AsyncEngine, *, enabled: bool, specs: Mapping[JobName, JobSpec]) -> None:
        self._engine = engine
        self._enabled = enabled
        self._specs = specs

    async def status(self, now: datetime) -> str:
        if not self._enabled:
            return BackgroundJobs.DISABLED
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), self._engine.connect() as conn:
                activity = await read_activity(conn)
        except Exception:
            return BackgroundJobs.STALLED
        return assess_background_jobs(now, activity, self._specs)
