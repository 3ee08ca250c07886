"""Job-run rows (JB-1, JB-4): each call is its own short transaction, outside any use case's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, and_, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from spotopt.adapters.persistence import tables as t
from spotopt.adapters.persistence.types import UTCDateTime
from spotopt.application.jobs.names import JobRun, RunStatus
from spotopt.application.jobs.schedule import JobActivity

_C = t.job_runs.c


class SqlAlchemyJobRuns:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def claim(self, job: str, tick: datetime, now: datetime) -> bool:
        row = {"job": job, "tick": tick, "status": RunStatus.RUNNING.value, "started_at": now}
        async with self._sessionmaker() as session:
            try:
                await session.execute(insert(t.job_runs).values(**row))
                await session.commit()
            except IntegrityError:  # the (job, tick) key: another worker has this tick
                return False
        return True

    async def reclaim(self, job: str, tick: datetime, now: datetime, *, stale_before: datetime) -> bool:
        takeover = or_(
            _C.status == RunStatus.ERROR.value,
            and_(_C.status == RunStatus.RUNNING.value, _C.started_at < stale_before),
        )
        stmt = (
            update(t.job_runs)
            .where(_C.job == job, _C.tick == tick, takeover)
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
            update(t.job_runs)
            .where(_C.job == job, _C.tick == tick)
            .values(status=status, finished_at=now, duration_ms=duration_ms, summary=dict(summary))
        )
        async with self._sessionmaker() as session:
            await session.execute(stmt)
            await session.commit()

    async def last_runs(self) -> Sequence[JobRun]:
        newest = select(_C.job, func.max(_C.tick).label("tick")).group_by(_C.job).subquery()
        stmt = select(t.job_runs).join(newest, and_(_C.job == newest.c.job, _C.tick == newest.c.tick)).order_by(_C.job)
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
    not_failed = case((_C.status != RunStatus.ERROR.value, _C.tick))
    stmt = select(
        _C.job,
        func.max(not_failed, type_=UTCDateTime()).label("tick"),
        func.max(_C.started_at).label("last"),
        func.min(_C.started_at),
    ).group_by(_C.job)
    rows = (await conn.execute(stmt)).all()
    return JobActivity(
        last_started_at=max((r[2] for r in rows), default=None),
        first_started_at=min((r[3] for r in rows), default=None),
        last_ticks={r[0]: _aware(r[1]) for r in rows if r[1] is not None},
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
