"""Retention deletes (domain §7.3): one bounded DELETE per call, inside the caller's transaction.

A bulk path (up to 5,000 rows per statement), so Core statements on the models' tables. Each rule is a table
with the condition that selects its expired rows. The guards the spec demands live in the conditions: only
terminal commands, closed episodes, terminal replicas, terminated instances and closed ledger entries are ever
selected, ledger entries only when their day has a final daily snapshot, and the current on-demand price
(``ondemand_prices``) is not a table any rule names. Rows the schema protects (``RESTRICT``) wait for what
references them: an instance until its ledger entries are purged, a pool until its buckets are. References the
schema clears (``SET NULL``) or cascades (a report's submissions) need no guard.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.models.agents import InstanceModel, SightingModel
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.commands import CleanupRecordModel, CommandModel, SwitchModel
from spotopt.adapters.persistence.models.decisions import DecisionModel
from spotopt.adapters.persistence.models.interruptions import EpisodeModel, SignalModel
from spotopt.adapters.persistence.models.ledger import LedgerEntryModel, SavingsDailyModel
from spotopt.adapters.persistence.models.notifications import NotificationModel, SystemEventModel
from spotopt.adapters.persistence.models.pricing import (
    InterpolationRecordModel,
    OnDemandObservationModel,
    PriceBucketModel,
    PricingReportModel,
    PricingSubmissionModel,
    SpotPoolModel,
)
from spotopt.adapters.persistence.models.replicas import ReplicaModel
from spotopt.adapters.persistence.models.system import JobRunModel
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.commands.values import TERMINAL_COMMAND
from spotopt.domain.interruptions.values import OPEN_EPISODE
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaStatus
from spotopt.domain.system.retention import RetentionRule

Condition = ColumnElement[bool]
Rule = Callable[[datetime], tuple[Table, Condition]]


def _older(model: Any, column: str) -> Rule:
    table: Table = table_of(model)
    return lambda cutoff: (table, table.c[column] < cutoff)


def _terminal_commands(cutoff: datetime) -> tuple[Table, Condition]:
    c = CommandModel
    finished = func.coalesce(c.completed_at, c.cancelled_at)
    return table_of(c), and_(c.status.in_([s.value for s in TERMINAL_COMMAND]), finished < cutoff)


def _closed_episodes(cutoff: datetime) -> tuple[Table, Condition]:
    e = EpisodeModel
    return table_of(e), and_(e.state.not_in([s.value for s in OPEN_EPISODE]), e.closed_at < cutoff)


def _terminal_replicas(cutoff: datetime) -> tuple[Table, Condition]:
    r = ReplicaModel
    ended = {
        ReplicaStatus.PROMOTED: r.promoted_at,
        ReplicaStatus.TERMINATED: r.terminated_at,
        ReplicaStatus.FAILED: r.failed_at,
    }
    assert not set(ended) & NON_TERMINAL_REPLICA  # noqa: S101 - a non-terminal status must never be selected
    return table_of(r), or_(*(and_(r.status == status.value, at < cutoff) for status, at in ended.items()))


def _terminated_instances(cutoff: datetime) -> tuple[Table, Condition]:
    i, e = InstanceModel, LedgerEntryModel
    has_entries = exists().where(e.client_id == i.client_id, e.instance_id == i.instance_id)
    return table_of(i), and_(i.role == InstanceRole.TERMINATED.value, i.terminated_at < cutoff, ~has_entries)


def _unused_pools(cutoff: datetime) -> tuple[Table, Condition]:
    p = SpotPoolModel
    has_buckets = exists().where(PriceBucketModel.pool_id == p.pool_id)
    return table_of(p), and_(p.last_seen_at < cutoff, ~has_buckets)


def _closed_ledger_entries(cutoff: datetime) -> tuple[Table, Condition]:
    e, s = LedgerEntryModel, SavingsDailyModel
    final_day = exists().where(s.client_id == e.client_id, s.day == func.date(e.started_at), s.final.is_(True))
    return table_of(e), and_(e.ended_at.is_not(None), e.ended_at < cutoff, final_day)


def _daily_savings(cutoff: datetime) -> tuple[Table, Condition]:
    return table_of(SavingsDailyModel), SavingsDailyModel.day < cutoff.date()


def _notifications(read: bool) -> Rule:
    n = NotificationModel
    return lambda cutoff: (table_of(n), and_(n.is_read.is_(read), n.created_at < cutoff))


def _events(*severities: str) -> Rule:
    e = SystemEventModel
    return lambda cutoff: (table_of(e), and_(e.severity.in_(severities), e.created_at < cutoff))


_RULES: dict[RetentionRule, Rule] = {
    RetentionRule.PRICING_REPORTS: _older(PricingReportModel, "received_at"),
    RetentionRule.PRICING_SUBMISSIONS: _older(PricingSubmissionModel, "received_at"),
    RetentionRule.PRICE_BUCKETS: _older(PriceBucketModel, "bucket_start"),
    RetentionRule.INTERPOLATION_RECORDS: _older(InterpolationRecordModel, "created_at"),
    RetentionRule.ONDEMAND_OBSERVATIONS: _older(OnDemandObservationModel, "observed_at"),
    RetentionRule.SPOT_POOLS: _unused_pools,
    RetentionRule.TERMINAL_COMMANDS: _terminal_commands,
    RetentionRule.SWITCHES: _older(SwitchModel, "received_at"),
    RetentionRule.DECISIONS: _older(DecisionModel, "evaluated_at"),
    RetentionRule.INTERRUPTION_SIGNALS: _older(SignalModel, "received_at"),
    RetentionRule.CLOSED_EPISODES: _closed_episodes,
    RetentionRule.TERMINAL_REPLICAS: _terminal_replicas,
    RetentionRule.TERMINATED_INSTANCES: _terminated_instances,
    RetentionRule.UNATTACHED_SIGHTINGS: _older(SightingModel, "last_seen_at"),
    RetentionRule.CLOSED_LEDGER_ENTRIES: _closed_ledger_entries,
    RetentionRule.DAILY_SAVINGS: _daily_savings,
    RetentionRule.READ_NOTIFICATIONS: _notifications(read=True),
    RetentionRule.UNREAD_NOTIFICATIONS: _notifications(read=False),
    RetentionRule.INFO_WARNING_EVENTS: _events("info", "warning"),
    RetentionRule.ERROR_CRITICAL_EVENTS: _events("error", "critical"),
    RetentionRule.CLEANUP_RECORDS: _older(CleanupRecordModel, "received_at"),
    RetentionRule.JOB_RUNS: _older(JobRunModel, "tick"),
}


class SqlAlchemyRetentionStore:
    """``RetentionStore`` over the request's session; the use case commits after every batch."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def purge(self, rule: RetentionRule, cutoff: datetime, limit: int) -> int:
        table, condition = _RULES[rule](cutoff)
        keys = list(table.primary_key.columns)
        # MySQL allows neither LIMIT in an IN subquery nor selecting from the table being deleted from, except
        # through a derived table; SQLite accepts the same statement (it has no DELETE … LIMIT by default).
        chosen = select(*keys).where(condition).limit(limit).subquery()
        picked = select(*chosen.c)
        target = keys[0].in_(picked) if len(keys) == 1 else tuple_(*keys).in_(picked)
        result: Any = await self._session.execute(delete(table).where(target))
        return int(result.rowcount)
