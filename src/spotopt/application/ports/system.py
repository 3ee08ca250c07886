"""Ports of cross-cutting services: clock, health probes, job runs and queue, retention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from spotopt.application.jobs.names import JobRun
from spotopt.domain.system.retention import RetentionRule


class Clock(Protocol):
    """The authoritative server clock (C-2): aware UTC datetimes."""

    def now(self) -> datetime: ...


class RetentionStore(Protocol):
    """Deletes expired records (§7.3) inside the caller's transaction (the caller commits after every batch).

    ``purge`` deletes at most ``limit`` records of ``rule`` measured before ``cutoff`` in one statement, and never
    a record the rule protects (open or non-terminal records, ledger entries of a day without a final snapshot,
    the current on-demand price). Returns how many it deleted.
    """

    async def purge(self, rule: RetentionRule, cutoff: datetime, limit: int) -> int: ...


class DatabaseProbe(Protocol):
    """A trivial query with a short timeout; never raises."""

    async def ping(self) -> bool: ...


class JobMonitor(Protocol):
    """Background job state for health reports: ``running``, ``stalled`` or ``disabled`` (H1, JB-1); never raises."""

    async def status(self, now: datetime) -> str: ...


class JobRuns(Protocol):
    """Job-run rows (JB-1, JB-4). Every call is its own short transaction, never the caller's; it commits."""

    async def claim(self, job: str, tick: datetime, now: datetime) -> bool:
        """Insert the ``(job, tick)`` row as running; False when it exists (another worker has this tick, JB-1)."""
        ...

    async def reclaim(self, job: str, tick: datetime, now: datetime, *, stale_before: datetime) -> bool:
        """Take over a row of an earlier attempt of the same run: one that failed, or that is still ``running``
        but started before ``stale_before`` (its worker died). False otherwise.
        """
        ...

    async def finish(
        self, job: str, tick: datetime, *, status: str, now: datetime, duration_ms: int, summary: Mapping[str, object]
    ) -> None:
        """Record the outcome of a claimed run (JB-4)."""
        ...

    async def last_runs(self) -> Sequence[JobRun]:
        """The newest run of every job that has run."""
        ...


class JobQueue(Protocol):
    """Enqueues background jobs, after the caller's commit (CC-8); one method per job kind.

    Never raises: when the queue is unreachable the job is dropped with a warning (scheduled jobs run again on
    their next tick, and H1 reports the workers as stalled). Returns False when nothing was enqueued (dropped, or
    a job with the same key is already waiting).
    """

    async def run_health_monitor(self, tick: datetime) -> bool: ...
