"""The job functions: each runs its use case (under the retry rule, CC-5) in its own REQUEST scope, or one scope per
batch or agent, and returns a small JSON summary.

Adding a scheduled job: a ``JobName``, a ``JobSpec`` in ``DEFAULT_JOB_SPECS``, the use case in a provider, and
here a ``@scheduled`` body plus one entry in ``SCHEDULED_JOBS``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from dishka import AsyncContainer

from spotopt.application.agents.mark_stale_agents_offline import MarkStaleAgentsOffline
from spotopt.application.commands.sweep_commands import SweepCommands, SweepCommandsCommand
from spotopt.application.decisions.evaluate_auto_switch import EvaluateAutoSwitch, EvaluateAutoSwitchCommand
from spotopt.application.errors import UnavailableError
from spotopt.application.interruptions.coordinate_replicas import CoordinateReplicas, CoordinateReplicasCommand
from spotopt.application.jobs.names import JobName
from spotopt.application.jobs.schedule import DEFAULT_JOB_SPECS
from spotopt.application.ledger.accrue_ledger import AccrueLedger, AccrueLedgerCommand, last_completed_bucket
from spotopt.application.ledger.snapshot_client_growth import SnapshotClientGrowth
from spotopt.application.ledger.snapshot_savings import SnapshotSavings, SnapshotSavingsCommand
from spotopt.application.ports.agents import AgentRef
from spotopt.application.pricing.aggregate_pricing import AggregatePricing, AggregatePricingCommand
from spotopt.application.pricing.fill_price_gaps import FillPriceGaps, FillPriceGapsCommand
from spotopt.application.system.clean_retention import CleanRetention, CleanRetentionCommand
from spotopt.application.system.list_agents_for_job import AgentJob, ListAgentsForJob, ListAgentsForJobQuery
from spotopt.domain.shared.errors import DomainError
from spotopt.domain.shared.ids import AgentId, ClientId
from spotopt.entrypoints.running import run_in, run_in_new_scope
from spotopt.entrypoints.worker.decorators import JobFunction, Summary, scheduled
from spotopt.entrypoints.worker.notification_jobs import fan_out_notifications

log = logging.getLogger("spotopt.jobs")


@scheduled(JobName.MONITOR_AGENT_HEALTH)
async def monitor_agent_health(scope: AsyncContainer, _tick: datetime) -> Summary:
    result = await run_in(scope, MarkStaleAgentsOffline, lambda uc: uc.execute())
    if result.failed:  # JB-3: a failing agent is logged and skipped; the next tick retries it
        log.warning("health monitor skipped agents that failed: %s", ", ".join(result.failed))
    return {"marked_offline": len(result.marked_offline), "skipped": len(result.skipped), "failed": list(result.failed)}


MAX_BATCHES = 50  # JB-5: a run stops at a safe point; the next tick continues
AGENT_PAGE = 200
U = TypeVar("U")


def _app(scope: AsyncContainer) -> AsyncContainer:
    """The APP container the job's scope came from: batches and agents get REQUEST scopes of their own (CC-4)."""
    parent = scope.parent_container
    assert parent is not None  # noqa: S101 - job scopes are always children of the APP container
    return parent


async def _in_batches(
    scope: AsyncContainer,
    counters: tuple[str, ...],
    use_case: type[U],
    call: Callable[[U, Any], Awaitable[Any]],
) -> Summary:
    """Run a keyset-batched use case until it reports no ``next_after`` (JB-5), one scope and transaction per
    batch, summing the result fields named in ``counters``.
    """
    totals = dict.fromkeys(counters, 0)
    after: Any = None
    for _ in range(MAX_BATCHES):
        result = await run_in_new_scope(_app(scope), use_case, lambda uc: call(uc, after))  # noqa: B023 - awaited now
        for key in counters:
            totals[key] += getattr(result, key)
        after = result.next_after
        if after is None:
            break
    return dict(totals)


@scheduled(JobName.SWEEP_COMMANDS)
async def sweep_commands(scope: AsyncContainer, _tick: datetime) -> Summary:
    async def run(use_case: SweepCommands, after: AgentId | None) -> Any:
        return await use_case.execute(SweepCommandsCommand(after=after))

    counters = ("agents", "expired", "unacknowledged", "completed_unacknowledged")
    return await _in_batches(scope, counters, SweepCommands, run)


async def _aggregate(scope: AsyncContainer, command: AggregatePricingCommand) -> Summary:
    result = await run_in(scope, AggregatePricing, lambda uc: uc.execute(command))
    return {"processed": result.processed, "buckets_written": result.buckets_written, "has_more": result.has_more}


@scheduled(JobName.AGGREGATE_PRICING)
async def aggregate_pricing(scope: AsyncContainer, tick: datetime) -> Summary:
    reconciliation = DEFAULT_JOB_SPECS[JobName.RECONCILE_PRICING].schedule
    if reconciliation is not None and reconciliation.tick_at_or_before(tick) == tick:
        # Two aggregations folding into one bucket at once could let a lower priority win (PR-12).
        return {"skipped": "the reconciliation run takes this tick"}
    return await _aggregate(scope, AggregatePricingCommand())


@scheduled(JobName.RECONCILE_PRICING)
async def reconcile_pricing(scope: AsyncContainer, tick: datetime) -> Summary:
    # Runs at hh:07 instead of that minute's regular aggregation (see aggregate_pricing).
    return await _aggregate(scope, AggregatePricingCommand.reconciliation(tick))


async def _fill(scope: AsyncContainer, command: FillPriceGapsCommand) -> Summary:
    result = await run_in(scope, FillPriceGaps, lambda uc: uc.execute(command))
    return {
        "pools": result.pools_examined,
        "filled": result.buckets_filled,
        "not_filled": result.gaps_not_filled_events,
    }


@scheduled(JobName.FILL_PRICE_GAPS)
async def fill_price_gaps(scope: AsyncContainer, tick: datetime) -> Summary:
    return await _fill(scope, FillPriceGapsCommand.recent(tick))


@scheduled(JobName.FILL_PRICE_GAPS_DAILY)
async def fill_price_gaps_daily(scope: AsyncContainer, tick: datetime) -> Summary:
    return await _fill(scope, FillPriceGapsCommand.daily(tick))


@scheduled(JobName.ACCRUE_LEDGER)
async def accrue_ledger(scope: AsyncContainer, tick: datetime) -> Summary:
    bucket = last_completed_bucket(tick)

    async def run(use_case: AccrueLedger, after: AgentId | None) -> Any:
        return await use_case.execute(AccrueLedgerCommand(bucket=bucket, after=after))

    return await _in_batches(scope, ("agents", "entries_written"), AccrueLedger, run)


async def _each_agent(
    scope: AsyncContainer, job: AgentJob, use_case: type[U], call: Callable[[U, AgentRef], Awaitable[bool]]
) -> Summary:
    """Visit the agents of a per-agent job, one scope and transaction each; an agent that still fails after the
    retry rule is logged and skipped (JB-3).
    """
    visited, failed = 0, []
    after: AgentId | None = None
    for _ in range(MAX_BATCHES):
        query = ListAgentsForJobQuery(job=job, after=after, limit=AGENT_PAGE)
        refs = await run_in_new_scope(_app(scope), ListAgentsForJob, lambda uc: uc.execute(query))  # noqa: B023 - awaited now
        for ref in refs:
            try:
                visited += int(await run_in_new_scope(_app(scope), use_case, lambda uc: call(uc, ref)))  # noqa: B023 - awaited now
            except DomainError as exc:
                log.warning("%s: agent %s skipped: %s", job, ref.agent_id, exc.message)
                failed.append(ref.agent_id)
            except UnavailableError as exc:  # retries exhausted or a lost connection: the agent waits for the next tick
                log.warning("%s: agent %s skipped: %s", job, ref.agent_id, exc)
                failed.append(ref.agent_id)
        if len(refs) < AGENT_PAGE:
            break
        after = refs[-1].agent_id
    return {"agents": visited, "failed": failed}


@scheduled(JobName.COORDINATE_REPLICAS)
async def coordinate_replicas(scope: AsyncContainer, _tick: datetime) -> Summary:
    async def run(use_case: CoordinateReplicas, ref: AgentRef) -> bool:
        command = CoordinateReplicasCommand(client_id=ref.client_id, agent_id=ref.agent_id)
        return not (await use_case.execute(command)).skipped

    return await _each_agent(scope, AgentJob.COORDINATE_REPLICAS, CoordinateReplicas, run)


@scheduled(JobName.EVALUATE_AUTO_SWITCH)
async def evaluate_auto_switch(scope: AsyncContainer, tick: datetime) -> Summary:
    async def run(use_case: EvaluateAutoSwitch, ref: AgentRef) -> bool:
        command = EvaluateAutoSwitchCommand(client_id=ref.client_id, agent_id=ref.agent_id, tick=tick)
        return (await use_case.execute(command)).command is not None

    return await _each_agent(scope, AgentJob.EVALUATE_AUTO_SWITCH, EvaluateAutoSwitch, run)


@scheduled(JobName.CLEAN_RETENTION)
async def clean_retention(scope: AsyncContainer, _tick: datetime) -> Summary:
    result = await run_in(scope, CleanRetention, lambda uc: uc.execute(CleanRetentionCommand()))
    return {"deleted": result.total, "complete": result.complete}


@scheduled(JobName.SNAPSHOT_CLIENT_GROWTH)
async def snapshot_client_growth(scope: AsyncContainer, _tick: datetime) -> Summary:
    result = await run_in(scope, SnapshotClientGrowth, lambda uc: uc.execute())
    return {"written": len(result.written), "backfilled": len(result.backfilled)}


@scheduled(JobName.SNAPSHOT_SAVINGS)
async def snapshot_savings(scope: AsyncContainer, _tick: datetime) -> Summary:
    async def run(use_case: SnapshotSavings, after: ClientId | None) -> Any:
        return await use_case.execute(SnapshotSavingsCommand(after=after))

    counters = ("clients", "daily_final", "daily_provisional", "monthly_final")
    return await _in_batches(scope, counters, SnapshotSavings, run)


SCHEDULED_JOBS: Mapping[JobName, JobFunction] = {
    JobName.MONITOR_AGENT_HEALTH: monitor_agent_health,
    JobName.SWEEP_COMMANDS: sweep_commands,
    JobName.AGGREGATE_PRICING: aggregate_pricing,
    JobName.RECONCILE_PRICING: reconcile_pricing,
    JobName.FILL_PRICE_GAPS: fill_price_gaps,
    JobName.FILL_PRICE_GAPS_DAILY: fill_price_gaps_daily,
    JobName.ACCRUE_LEDGER: accrue_ledger,
    JobName.COORDINATE_REPLICAS: coordinate_replicas,
    JobName.EVALUATE_AUTO_SWITCH: evaluate_auto_switch,
    JobName.CLEAN_RETENTION: clean_retention,
    JobName.SNAPSHOT_CLIENT_GROWTH: snapshot_client_growth,
    JobName.SNAPSHOT_SAVINGS: snapshot_savings,
    JobName.FAN_OUT_NOTIFICATIONS: fan_out_notifications,
}
