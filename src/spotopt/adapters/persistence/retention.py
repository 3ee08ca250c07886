"""Retention deletes (domain §7.3): one bounded DELETE per call, inside the caller's transaction.

Each rule is a table with the condition that selects its expired rows. The guards the spec demands live in the
conditions: only terminal commands, closed episodes, terminal replicas, terminated instances and closed ledger
entries are ever selected, ledger entries only when their day has a final daily snapshot, and the current
on-demand price (``ondemand_prices``) is not a table any rule names.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence import tables as t
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.commands.values import TERMINAL_COMMAND
from spotopt.domain.interruptions.values import OPEN_EPISODE
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaStatus
from spotopt.domain.system.retention import RetentionRule

Condition = ColumnElement[bool]


def _older(table: Table, column: str) -> Callable[[datetime], tuple[Table, Condition]]:
    return lambda cutoff: (table, table.c[column] < cutoff)


def _terminal_commands(cutoff: datetime) -> tuple[Table, Condition]:
    c = t.commands.c
    finished = func.coalesce(c.completed_at, c.cancelled_at)
    return t.commands, and_(c.status.in_([s.value for s in TERMINAL_COMMAND]), finished < cutoff)


def _closed_episodes(cutoff: datetime) -> tuple[Table, Condition]:
    c = t.episodes.c
    return t.episodes, and_(c.state.not_in([s.value for s in OPEN_EPISODE]), c.closed_at < cutoff)


def _terminal_replicas(cutoff: datetime) -> tuple[Table, Condition]:
    c = t.replicas.c
    ended = {
        ReplicaStatus.PROMOTED: c.promoted_at,
        ReplicaStatus.TERMINATED: c.terminated_at,
        ReplicaStatus.FAILED: c.failed_at,
    }
    assert not set(ended) & NON_TERMINAL_REPLICA  # noqa: S101 - a non-terminal status must never be selected
    return t.replicas, or_(*(and_(c.status == status.value, at < cutoff) for status, at in ended.items()))


def _terminated_instances(cutoff: datetime) -> tuple[Table, Condition]:
    c = t.instances.c
    return t.instances, and_(c.role == InstanceRole.TERMINATED.value, c.terminated_at < cutoff)


def _unused_pools(cutoff: datetime) -> tuple[Table, Condition]:
    c = t.spot_pools.c
    has_buckets = exists().where(t.price_buckets.c.pool_id == c.pool_id)
    return t.spot_pools, and_(c.last_seen_at < cutoff, ~has_buckets)


def _closed_ledger_entries(cutoff: datetime) -> tuple[Table, Condition]:
    c, s = t.ledger_entries.c, t.savings_daily.c
    final_day = exists().where(s.client_id == c.client_id, s.day == func.date(c.started_at), s.final.is_(True))
    return t.ledger_entries, and_(c.ended_at.is_not(None), c.ended_at < cutoff, final_day)


def _daily_savings(cutoff: datetime) -> tuple[Table, Condition]:
    return t.savings_daily, t.savings_daily.c.day < cutoff.date()


def _notifications(read: bool) -> Callable[[datetime], tuple[Table, Condition]]:
    c = t.notifications.c
    return lambda cutoff: (t.notifications, and_(c.is_read.is_(read), c.created_at < cutoff))


def _events(*severities: str) -> Callable[[datetime], tuple[Table, Condition]]:
    c = t.system_events.c
    return lambda cutoff: (t.system_events, and_(c.severity.in_(severities), c.created_at < cutoff))


_RULES: dict[RetentionRule, Callable[[datetime], tuple[Table, Condition]]] = {
    RetentionRule.PRICING_REPORTS: _older(t.pricing_reports, "received_at"),
    RetentionRule.PRICING_SUBMISSIONS: _older(t.pricing_submissions, "received_at"),
    RetentionRule.PRICE_BUCKETS: _older(t.price_buckets, "bucket_start"),
    RetentionRule.INTERPOLATION_RECORDS: _older(t.interpolation_records, "created_at"),
    RetentionRule.ONDEMAND_OBSERVATIONS: _older(t.ondemand_observations, "observed_at"),
    RetentionRule.SPOT_POOLS: _unused_pools,
    RetentionRule.TERMINAL_COMMANDS: _terminal_commands,
    RetentionRule.SWITCHES: _older(t.switches, "received_at"),
    RetentionRule.DECISIONS: _older(t.decisions, "evaluated_at"),
    RetentionRule.INTERRUPTION_SIGNALS: _older(t.signals, "received_at"),
    RetentionRule.CLOSED_EPISODES: _closed_episodes,
    RetentionRule.TERMINAL_REPLICAS: _terminal_replicas,
    RetentionRule.TERMINATED_INSTANCES: _terminated_instances,
    RetentionRule.UNATTACHED_SIGHTINGS: _older(t.sightings, "last_seen_at"),
    RetentionRule.CLOSED_LEDGER_ENTRIES: _closed_ledger_entries,
    RetentionRule.DAILY_SAVINGS: _daily_savings,
    RetentionRule.READ_NOTIFICATIONS: _notifications(read=True),
    RetentionRule.UNREAD_NOTIFICATIONS: _notifications(read=False),
    RetentionRule.INFO_WARNING_EVENTS: _events("info", "warning"),
    RetentionRule.ERROR_CRITICAL_EVENTS: _events("error", "critical"),
    RetentionRule.CLEANUP_RECORDS: _older(t.cleanup_records, "received_at"),
    RetentionRule.JOB_RUNS: _older(t.job_runs, "tick"),
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
