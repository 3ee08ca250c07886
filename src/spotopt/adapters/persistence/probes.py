"""Health probes backed by the database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from spotopt.adapters.persistence import tables as t

PROBE_TIMEOUT_SECONDS = 2.0
WORKER_SILENCE = timedelta(seconds=60)


class SqlAlchemyDatabaseProbe:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "error"; the text is never shown
            return False
        return True


class SqlAlchemyJobMonitor:
    """``running`` when a job ran in the last 60 s; ``disabled`` when jobs are switched off."""

    def __init__(self, engine: AsyncEngine, *, enabled: bool) -> None:
        self._engine = engine
        self._enabled = enabled

    async def status(self, now: datetime) -> str:
        if not self._enabled:
            return "disabled"
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), self._engine.connect() as conn:
                last = (await conn.execute(select(func.max(t.job_runs.c.started_at)))).scalar()
        except Exception:  # noqa: BLE001
            return "stalled"
        if last is None:
            return "stalled"
        last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
        return "running" if now - last <= WORKER_SILENCE else "stalled"
