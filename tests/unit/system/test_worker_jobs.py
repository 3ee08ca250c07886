from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import msgspec
import pytest
from dishka import AsyncContainer, Provider, Scope, provide
from saq import Job

from spotopt.adapters.job_queue import JobPolicy
from spotopt.application.agents.mark_stale_agents_offline import MarkStaleAgentsOffline
from spotopt.application.agents.timings import AgentTimings
from spotopt.application.errors import LockContentionError
from spotopt.application.jobs.names import JobName, RunStatus
from spotopt.application.jobs.schedule import DEFAULT_JOB_SPECS
from spotopt.application.ports.system import Clock, JobRuns
from spotopt.application.ports.uow import UnitOfWork
from spotopt.bootstrap.container import make_container
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import Liveness
from spotopt.domain.shared.errors import DomainError
from spotopt.domain.shared.ids import AgentId, ClientId
from spotopt.entrypoints.worker.context import CONTAINER, WorkerContext
from spotopt.entrypoints.worker.decorators import describe_error, on_demand
from spotopt.entrypoints.worker.jobs import SCHEDULED_JOBS, aggregate_pricing, monitor_agent_health
from spotopt.entrypoints.worker.notification_jobs import ON_DEMAND_JOBS
from spotopt.entrypoints.worker.settings import worker_settings
from tests.fakes.store import InMemoryStore
from tests.fakes.system import FixedClock, InMemoryJobRuns
from tests.fakes.uow import InMemoryUnitOfWork
from tests.http_app import make_settings
from tests.services import sqlite_url

TICK = datetime(2026, 11, 28, 9, 0, 0, tzinfo=UTC)


class Fakes:
    def __init__(self) -> None:
        self.store = InMemoryStore()
        self.clock = FixedClock(TICK + timedelta(seconds=1))
        self.runs = InMemoryJobRuns()
        self.failing: Exception | None = None
        self.contended = 0  # the next runs of the use case that meet a deadlock (CC-5)
        self.calls = 0
        self.uows: list[InMemoryUnitOfWork] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()


class FakeProvider(Provider):
    """Ports overridden with the fakes; the use case optionally fails or blocks after its work."""

    def __init__(self, fakes: Fakes) -> None:
        super().__init__()
        self.fakes = fakes

    @provide(scope=Scope.REQUEST, override=True)
    async def uow(self) -> AsyncIterator[UnitOfWork]:
        async with InMemoryUnitOfWork(self.fakes.store) as uow:  # the scope's end discards uncommitted work
            self.fakes.uows.append(uow)
            yield uow

    @provide(scope=Scope.APP, override=True)
    def clock(self) -> Clock:
        return self.fakes.clock

    @provide(scope=Scope.APP, override=True)
    def runs(self) -> JobRuns:
        return self.fakes.runs

    @provide(scope=Scope.REQUEST, override=True)
    def monitor(self, uow: UnitOfWork, clock: Clock, timings: AgentTimings) -> MarkStaleAgentsOffline:
        return ScriptedMonitor(uow, clock, timings, self.fakes)


class ScriptedMonitor(MarkStaleAgentsOffline):
    def __init__(self, uow: UnitOfWork, clock: Clock, timings: AgentTimings, fakes: Fakes) -> None:
        super().__init__(uow, clock, timings)
        self.fakes = fakes

    async def execute(self) -> Any:
        self.fakes.calls += 1
        if self.fakes.contended:
            self.fakes.contended -= 1
            raise LockContentionError
        if self.fakes.failing is not None:
            raise self.fakes.failing
        result = await super().execute()
        if self.fakes.gate is not None:
            self.fakes.entered.set()
            await self.fakes.gate.wait()
        return result


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
async def container(fakes: Fakes, tmp_path: Path) -> AsyncIterator[AsyncContainer]:
    built = make_container(make_settings(sqlite_url(tmp_path), tmp_path), FakeProvider(fakes))
    yield built
    await built.close()


def make_ctx(container: AsyncContainer, *, attempts: int = 1, retries: int = 2) -> WorkerContext:
    job = Job(function=JobName.MONITOR_AGENT_HEALTH.value, attempts=attempts, retries=retries)
    return cast("WorkerContext", {CONTAINER: container, "job": job})


def add_stale_agent(fakes: Fakes, agent_id: str = "agent-1") -> Agent:
    now = fakes.clock.now()
    agent = Agent(
        agent_id=AgentId(agent_id),
        client_id=ClientId("client-1"),
        logical_agent_id=agent_id,
        created_at=now - timedelta(days=1),
        updated_at=now - timedelta(days=1),
        last_heartbeat_at=now - timedelta(minutes=5),
    )
    fakes.store.agents[agent.agent_id] = agent
    return agent


async def test_jb1_jb4_health_monitor_job_claims_its_tick_runs_the_use_case_and_records_the_run(
    container: AsyncContainer, fakes: Fakes
) -> None:
    agent = add_stale_agent(fakes)

    summary = await monitor_agent_health(make_ctx(container), tick="2026-11-28T09:00:00Z")

    assert summary == {"tick": "2026-11-28T09:00:00Z", "marked_offline": 1, "skipped": 0, "failed": []}
    assert agent.liveness is Liveness.OFFLINE
    [run] = fakes.runs.rows.values()
    assert (run.job, run.tick, run.status) == ("monitor_agent_health", TICK, RunStatus.OK)
    assert run.duration_ms is not None
    assert run.summary == {"marked_offline": 1, "skipped": 0, "failed": []}
    assert msgspec.json.decode(msgspec.json.encode(summary)) == summary


async def test_jb1_a_tick_another_worker_claimed_does_nothing(container: AsyncContainer, fakes: Fakes) -> None:
    await monitor_agent_health(make_ctx(container), tick="2026-11-28T09:00:00Z")
    add_stale_agent(fakes, "late-agent")

    again = await monitor_agent_health(make_ctx(container), tick="2026-11-28T09:00:00+00:00")

    assert again == {"tick": "2026-11-28T09:00:00Z", "skipped": "another worker ran this tick"}
    assert fakes.store.agents[AgentId("late-agent")].liveness is Liveness.ONLINE


async def test_jb1_a_run_without_a_tick_takes_the_current_tick_of_its_schedule(
    container: AsyncContainer, fakes: Fakes
) -> None:
    fakes.clock.current = TICK + timedelta(seconds=47)

    summary = await monitor_agent_health(make_ctx(container))

    assert summary["tick"] == "2026-11-28T09:00:30Z"
    assert list(fakes.runs.rows) == [("monitor_agent_health", TICK + timedelta(seconds=30))]


async def test_jb2_a_tick_left_queued_past_its_period_is_not_replayed(container: AsyncContainer, fakes: Fakes) -> None:
    add_stale_agent(fakes)
    fakes.clock.current = TICK + timedelta(hours=1)

    summary = await monitor_agent_health(make_ctx(container), tick="2026-11-28T09:00:00Z")

    assert summary == {"tick": "2026-11-28T09:00:00Z", "skipped": "missed tick, not replayed"}
    assert fakes.runs.rows == {}
    assert fakes.store.events == []


async def test_job_payload_is_validated_like_a_request_body(container: AsyncContainer) -> None:
    with pytest.raises(msgspec.ValidationError):
        await monitor_agent_health(make_ctx(container), tick="yesterday")
    with pytest.raises(msgspec.ValidationError):
        await monitor_agent_health(make_ctx(container), tick="2026-11-28T09:00:00")  # no time zone
    with pytest.raises(msgspec.ValidationError):
        await monitor_agent_health(make_ctx(container), tick="2026-11-28T09:00:00Z", extra=1)


async def test_jb3_a_failed_attempt_records_error_and_is_retried_then_the_last_one_emits_job_failed(
    container: AsyncContainer, fakes: Fakes
) -> None:
    fakes.failing = RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await monitor_agent_health(make_ctx(container, attempts=1, retries=2), tick="2026-11-28T09:00:00Z")
    first = fakes.runs.rows[("monitor_agent_health", TICK)]
    events_after_first = [e.type for e in fakes.store.events]
    with pytest.raises(RuntimeError):
        await monitor_agent_health(make_ctx(container, attempts=2, retries=2), tick="2026-11-28T09:00:00Z")

    assert first.status is RunStatus.ERROR
    assert events_after_first == []
    last = fakes.runs.rows[("monitor_agent_health", TICK)]
    assert last.status is RunStatus.ERROR
    assert last.summary == {"error": "RuntimeError: boom", "attempts": 2}
    [event] = fakes.store.events
    assert (event.type, event.severity.value, event.client_id) == ("job_failed", "error", None)
    assert event.metadata == {
        "job": "monitor_agent_health",
        "tick": "2026-11-28T09:00:00Z",
        "error": "RuntimeError: boom",
        "attempts": 2,
    }


async def test_jb3_a_retry_after_a_failure_takes_the_tick_over_and_succeeds(
    container: AsyncContainer, fakes: Fakes
) -> None:
    fakes.failing = RuntimeError("database hiccup")
    with pytest.raises(RuntimeError):
        await monitor_agent_health(make_ctx(container, attempts=1), tick="2026-11-28T09:00:00Z")
    fakes.failing = None
    add_stale_agent(fakes)

    summary = await monitor_agent_health(make_ctx(container, attempts=2), tick="2026-11-28T09:00:00Z")

    assert summary["marked_offline"] == 1
    assert fakes.runs.rows[("monitor_agent_health", TICK)].status is RunStatus.OK
    assert "job_failed" not in [e.type for e in fakes.store.events]


async def test_cc5_a_job_reruns_its_use_case_on_lock_contention_in_a_fresh_transaction(
    container: AsyncContainer, fakes: Fakes
) -> None:
    agent = add_stale_agent(fakes)
    fakes.contended = 2

    summary = await monitor_agent_health(make_ctx(container), tick="2026-11-28T09:00:00Z")

    assert (summary["marked_offline"], fakes.calls) == (1, 3)
    assert agent.liveness is Liveness.OFFLINE
    assert [uow.rollbacks for uow in fakes.uows] == [2]  # one scope, rolled back between its attempts
    assert fakes.runs.rows[("monitor_agent_health", TICK)].status is RunStatus.OK


async def test_cc5_a_job_whose_retries_run_out_fails_its_run_for_saq_to_retry(
    container: AsyncContainer, fakes: Fakes
) -> None:
    fakes.contended = 4

    with pytest.raises(LockContentionError):
        await monitor_agent_health(make_ctx(container, attempts=1, retries=2), tick="2026-11-28T09:00:00Z")

    assert fakes.calls == 4
    run = fakes.runs.rows[("monitor_agent_health", TICK)]
    assert (run.status, run.summary) == (
        RunStatus.ERROR,
        {"error": "LockContentionError: database unavailable", "attempts": 1},
    )


async def test_house_style_business_rule_errors_are_reported_not_retried(
    container: AsyncContainer, fakes: Fakes
) -> None:
    fakes.failing = DomainError("Policy forbids it", code="policy")

    summary = await monitor_agent_health(make_ctx(container, attempts=1, retries=3), tick="2026-11-28T09:00:00Z")

    assert summary == {"tick": "2026-11-28T09:00:00Z", "error": "policy: Policy forbids it"}
    assert fakes.runs.rows[("monitor_agent_health", TICK)].status is RunStatus.ERROR
    assert [e.type for e in fakes.store.events] == ["job_failed"]


async def test_idempotency_a_run_cancelled_after_its_effect_is_taken_over_without_repeating_it(
    container: AsyncContainer, fakes: Fakes
) -> None:
    add_stale_agent(fakes)
    fakes.gate = asyncio.Event()
    first = asyncio.create_task(monitor_agent_health(make_ctx(container), tick="2026-11-28T09:00:00Z"))
    await fakes.entered.wait()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    cancelled = fakes.runs.rows[("monitor_agent_health", TICK)]
    fakes.gate = None

    retried = await monitor_agent_health(make_ctx(container, attempts=2), tick="2026-11-28T09:00:00Z")

    assert cancelled.status is RunStatus.ERROR
    assert retried["marked_offline"] == 0
    assert [e.type for e in fakes.store.events] == ["agent_offline"]
    assert len(fakes.store.notifications) == 1


async def test_on_demand_jobs_validate_their_payload_and_report_business_errors(container: AsyncContainer) -> None:
    class Payload(msgspec.Struct, forbid_unknown_fields=True):
        agent_id: str

    @on_demand(JobName.SWEEP_COMMANDS, Payload)
    async def sweep(scope: AsyncContainer, payload: Payload) -> dict[str, object]:
        if payload.agent_id == "bad":
            raise DomainError("Not allowed", code="nope")
        return {"agent": payload.agent_id, "now": (await scope.get(Clock)).now().isoformat()}

    ctx = make_ctx(container)
    assert sweep.__qualname__ == "sweep_commands"
    assert await sweep(ctx, agent_id="a1") == {"agent": "a1", "now": "2026-11-28T09:00:01+00:00"}
    assert await sweep(ctx, agent_id="bad") == {"error": "nope: Not allowed"}
    with pytest.raises(msgspec.ValidationError):
        await sweep(ctx, agent="a1")


def test_nt6_job_errors_never_carry_sql_or_parameters() -> None:
    exc = RuntimeError("(pymysql.err.OperationalError) gone [SQL: SELECT token_hash FROM clients] [parameters: ('x',)]")

    assert describe_error(exc) == "RuntimeError: (pymysql.err.OperationalError) gone"


async def test_jb1_saq_cron_jobs_become_one_job_per_tick_with_the_catalogue_policy() -> None:
    policy = JobPolicy(DEFAULT_JOB_SPECS)
    job = Job(function="monitor_agent_health", key="cron:monitor_agent_health", scheduled=int(TICK.timestamp()))

    await policy(job)

    spec = DEFAULT_JOB_SPECS[JobName.MONITOR_AGENT_HEALTH]
    assert job.key == "monitor_agent_health:2026-11-28T09:00:00Z"
    assert job.kwargs == {"tick": "2026-11-28T09:00:00Z"}
    assert (job.timeout, job.retries, job.retry_delay, job.retry_backoff) == (
        spec.timeout,
        spec.retries,
        spec.retry_delay,
        spec.retry_backoff,
    )


def test_worker_settings_register_every_scheduled_job_under_its_name_with_its_cron(tmp_path: Path) -> None:
    settings = make_settings(
        sqlite_url(tmp_path), tmp_path, redis_url="redis://127.0.0.1:1/0", job_periods=(("monitor_agent_health", 5),)
    )

    built = worker_settings(settings, concurrency=3)

    jobs = {**SCHEDULED_JOBS, **ON_DEMAND_JOBS}
    assert dict(built["functions"]) == {name.value: fn for name, fn in jobs.items()}
    crons = {cron.function.__qualname__: cron.cron for cron in built["cron_jobs"]}
    assert set(crons) == {name.value for name in SCHEDULED_JOBS}
    assert crons["monitor_agent_health"] == "* * * * * */5"
    assert crons["accrue_ledger"] == "2-59/5 * * * * 0"  # hh:02, hh:07, … (§7.2)
    assert crons["clean_retention"] == "0 2 * * * 0"  # daily 02:00 UTC
    assert built["queue"].name == "spotopt"
    assert built["concurrency"] == 3


def test_worker_settings_need_redis(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        worker_settings(make_settings(sqlite_url(tmp_path), tmp_path))


async def test_pr12_regular_aggregation_yields_the_hh07_tick_to_the_reconciliation(
    container: AsyncContainer, fakes: Fakes
) -> None:
    fakes.clock.current = datetime(2026, 11, 28, 10, 7, 5, tzinfo=UTC)

    summary = await aggregate_pricing(make_ctx(container), tick="2026-11-28T10:07:00Z")

    assert summary == {"tick": "2026-11-28T10:07:00Z", "skipped": "the reconciliation run takes this tick"}
