"""Fakes of the system ports: clock, job runs, job queue, retention."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from spotopt.application.jobs.names import JobRun, RunStatus
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.commands.values import TERMINAL_COMMAND
from spotopt.domain.interruptions.values import OPEN_EPISODE
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.events import Severity
from spotopt.domain.system.retention import RetentionRule
from tests.fakes.store import InMemoryRepository, InMemoryStore


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


class InMemoryRetentionStore(InMemoryRepository):
    """``RetentionStore`` over the shared store with the SQL adapter's guards (§7.3), inside the store's transaction;
    ``calls`` records purges. Job runs are their own transactions (``JobRuns``), so their purge is not rolled back.
    """

    def __init__(self, store: InMemoryStore, job_runs: InMemoryJobRuns | None = None) -> None:
        super().__init__(store)
        self.job_runs = job_runs or InMemoryJobRuns()
        self.calls: list[tuple[RetentionRule, datetime, int]] = []

    async def purge(self, rule: RetentionRule, cutoff: datetime, limit: int) -> int:
        self.calls.append((rule, cutoff, limit))
        rows, expired = self._rules(cutoff)[rule]
        if isinstance(rows, list):
            doomed = [i for i, row in enumerate(rows) if expired(row)][:limit]
            for i in reversed(doomed):
                del rows[i]
            return len(doomed)
        keys = [key for key, row in rows.items() if expired(row)][:limit]
        for key in keys:
            del rows[key]
        return len(keys)

    def _rules(self, cutoff: datetime) -> dict[RetentionRule, tuple[Any, Callable[[Any], bool]]]:
        s = self.store
        final_days = {key for key, snapshot in s.daily_snapshots.items() if snapshot.final}
        priced_pools = {pool_id for pool_id, _ in s.buckets}
        booked = {(e.client_id, e.instance_id) for e in s.ledger.values()}
        ended = {
            ReplicaStatus.PROMOTED: "promoted_at",
            ReplicaStatus.TERMINATED: "terminated_at",
            ReplicaStatus.FAILED: "failed_at",
        }

        def before(value: datetime | None) -> bool:
            return value is not None and value < cutoff

        return {
            RetentionRule.PRICING_REPORTS: (s.reports, lambda r: before(r.received_at)),
            RetentionRule.PRICING_SUBMISSIONS: (s.submissions, lambda r: before(r.received_at)),
            RetentionRule.PRICE_BUCKETS: (s.buckets, lambda b: before(b.bucket_start)),
            RetentionRule.INTERPOLATION_RECORDS: (s.interpolation_records, lambda r: before(r.created_at)),
            RetentionRule.ONDEMAND_OBSERVATIONS: (s.ondemand_observations, lambda o: before(o.observed_at)),
            RetentionRule.SPOT_POOLS: (s.pools, lambda p: before(p.last_seen_at) and p.pool_id not in priced_pools),
            RetentionRule.TERMINAL_COMMANDS: (
                s.commands,
                lambda c: c.status in TERMINAL_COMMAND and before(c.completed_at or c.cancelled_at),
            ),
            RetentionRule.SWITCHES: (s.switches, lambda w: before(w.received_at)),
            RetentionRule.DECISIONS: (s.decisions, lambda d: before(d.evaluated_at)),
            RetentionRule.INTERRUPTION_SIGNALS: (s.signals, lambda g: before(g.received_at)),
            RetentionRule.CLOSED_EPISODES: (s.episodes, lambda e: e.state not in OPEN_EPISODE and before(e.closed_at)),
            RetentionRule.TERMINAL_REPLICAS: (
                s.replicas,
                lambda r: r.status in ended and before(getattr(r, ended[r.status])),
            ),
            RetentionRule.TERMINATED_INSTANCES: (
                s.instances,
                # An instance a ledger entry names stays until the entry goes (the SQL schema's foreign key).
                lambda i: (
                    i.role is InstanceRole.TERMINATED
                    and before(i.terminated_at)
                    and (i.client_id, i.instance_id) not in booked
                ),
            ),
            RetentionRule.UNATTACHED_SIGHTINGS: (s.sightings, lambda w: before(w.last_seen_at)),
            RetentionRule.CLOSED_LEDGER_ENTRIES: (
                s.ledger,
                lambda e: before(e.ended_at) and (e.client_id, e.started_at.date()) in final_days,
            ),
            RetentionRule.DAILY_SAVINGS: (s.daily_snapshots, lambda d: d.day < cutoff.date()),
            RetentionRule.READ_NOTIFICATIONS: (s.notifications, lambda n: n.is_read and before(n.created_at)),
            RetentionRule.UNREAD_NOTIFICATIONS: (s.notifications, lambda n: not n.is_read and before(n.created_at)),
            RetentionRule.INFO_WARNING_EVENTS: (
                s.events,
                lambda e: e.severity in (Severity.INFO, Severity.WARNING) and before(e.created_at),
            ),
            RetentionRule.ERROR_CRITICAL_EVENTS: (
                s.events,
                lambda e: e.severity in (Severity.ERROR, Severity.CRITICAL) and before(e.created_at),
            ),
            RetentionRule.CLEANUP_RECORDS: (s.cleanups, lambda r: before(r.received_at)),
            RetentionRule.JOB_RUNS: (self.job_runs.rows, lambda r: before(r.tick)),
        }


class InMemoryJobRuns:
    """Job-run rows keyed by ``(job, tick)`` (JB-1, JB-4)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, datetime], JobRun] = {}

    async def claim(self, job: str, tick: datetime, now: datetime) -> bool:
        if (job, tick) in self.rows:
            return False
        self.rows[(job, tick)] = JobRun(job=job, tick=tick, status=RunStatus.RUNNING, started_at=now)
        return True

    async def reclaim(self, job: str, tick: datetime, now: datetime, *, stale_before: datetime) -> bool:
        row = self.rows.get((job, tick))
        if row is None:
            return False
        stale = row.status is RunStatus.RUNNING and row.started_at < stale_before
        if row.status is not RunStatus.ERROR and not stale:
            return False
        self.rows[(job, tick)] = JobRun(job=job, tick=tick, status=RunStatus.RUNNING, started_at=now)
        return True

    async def finish(
        self, job: str, tick: datetime, *, status: str, now: datetime, duration_ms: int, summary: Mapping[str, object]
    ) -> None:
        row = self.rows[(job, tick)]
        self.rows[(job, tick)] = JobRun(
            job=job,
            tick=tick,
            status=RunStatus(status),
            started_at=row.started_at,
            finished_at=now,
            duration_ms=duration_ms,
            summary=dict(summary),
        )

    async def last_runs(self) -> Sequence[JobRun]:
        newest: dict[str, JobRun] = {}
        for run in self.rows.values():
            if run.job not in newest or newest[run.job].tick < run.tick:
                newest[run.job] = run
        return sorted(newest.values(), key=lambda r: r.job)


class RecordingJobQueue:
    """``JobQueue`` that records what was enqueued (job name and arguments) instead of queueing it."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, dict[str, object]]] = []

    async def run_health_monitor(self, tick: datetime) -> bool:
        self.enqueued.append(("monitor_agent_health", {"tick": tick}))
        return True
