"""Rows on both sides of every §7.3 boundary the retention cleaner must respect, for the fake and the SQL store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.models.agents import InstanceModel
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.commands import CommandModel
from spotopt.adapters.persistence.models.interruptions import EpisodeModel
from spotopt.adapters.persistence.models.ledger import LedgerEntryModel
from spotopt.adapters.persistence.models.notifications import NotificationModel, SystemEventModel
from spotopt.adapters.persistence.models.pricing import PricingReportModel
from spotopt.adapters.persistence.models.replicas import ReplicaModel
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.values import InstanceRole, TerminationReason
from spotopt.domain.commands.values import CommandStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.entry import CloseReason, LedgerEntry, LedgerEntryId
from spotopt.domain.ledger.savings import DailySavings
from spotopt.domain.ledger.snapshots import SavingsDailySnapshot
from spotopt.domain.notifications.notification import SystemEvent
from spotopt.domain.pricing.market import PricingReport
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_agent, make_client, make_instance
from tests.factories.commands import make_command
from tests.factories.notifications import make_notification
from tests.factories.replicas import make_episode, make_replica
from tests.fakes.store import InMemoryStore

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
CLIENT = ClientId("client-retention")
AGENT = make_agent(CLIENT, agent_id=AgentId("agent-retention"))


def ago(days: float, **extra: float) -> datetime:
    return NOW - timedelta(days=days, **extra)


@dataclass(frozen=True, slots=True)
class Case:
    kind: str
    key: str
    kept: bool


def _entry(key: str, start: datetime, end: datetime | None) -> LedgerEntry:
    closed = end is not None
    return LedgerEntry(
        LedgerEntryId(key), CLIENT, AGENT.agent_id, InstanceId(f"i-{key[-8:]}"), InstanceRole.PRIMARY, Mode.SPOT,
        "t3.medium.us-east-1a", "t3.medium", "us-east-1", start, end, Decimal("0.0125"),
        baseline=Decimal("0.0416"), hours=Decimal(1) if closed else None, cost=Decimal("0.0125") if closed else None,
        baseline_cost=Decimal("0.0416") if closed else None, savings=Decimal("0.0291") if closed else None,
        close_reason=CloseReason.DAY_BOUNDARY if closed else None,
    )  # fmt: skip


async def _commands(uow: UnitOfWork) -> list[Case]:
    rows: list[tuple[str, dict[str, Any], bool]] = [
        ("c-pending", {"created_at": ago(100), "expires_at": ago(99)}, True),
        ("c-delivered", {"status": CommandStatus.DELIVERED, "delivered_at": ago(90)}, True),
        ("c-done-31d", {"status": CommandStatus.COMPLETED, "completed_at": ago(31)}, False),
        ("c-done-30d", {"status": CommandStatus.COMPLETED, "completed_at": ago(30)}, True),
        ("c-cancel-29d", {"status": CommandStatus.CANCELLED, "completed_at": ago(29), "cancelled_at": ago(29)}, True),
    ]
    for key, fields, _ in rows:
        await uow.commands.add(make_command(AGENT, command_id=key, idempotency_key=key, **fields))
    return [Case("commands", key, kept) for key, _, kept in rows]


async def _lifecycles(uow: UnitOfWork) -> list[Case]:
    episodes: list[tuple[str, dict[str, Any], bool]] = [
        ("e-open", {"opened_at": ago(800)}, True),
        ("e-closed-731d", {"state": EpisodeState.CLEARED, "closed_at": ago(731)}, False),
        ("e-closed-729d", {"state": EpisodeState.LOST, "closed_at": ago(729)}, True),
    ]
    for key, fields, _ in episodes:
        await uow.episodes.add(make_episode(AGENT, episode_id=key, instance_id=InstanceId(f"i-{key}"), **fields))
    replicas: list[tuple[str, dict[str, Any], bool]] = [
        ("r-launching", {"created_at": ago(400)}, True),
        ("r-ready", {"status": ReplicaStatus.READY, "ready_at": ago(300), "terminated_at": ago(300)}, True),
        ("r-failed-181d", {"status": ReplicaStatus.FAILED, "failed_at": ago(181)}, False),
        ("r-terminated-179d", {"status": ReplicaStatus.TERMINATED, "terminated_at": ago(179)}, True),
        ("r-promoted-200d", {"status": ReplicaStatus.PROMOTED, "promoted_at": ago(200)}, False),
    ]
    for key, fields, _ in replicas:
        await uow.replicas.add(make_replica(AGENT, replica_id=key, instance_id=InstanceId(f"i-{key}"), **fields))
    instances: list[tuple[str, dict[str, Any], bool]] = [
        ("i-primary", {"first_seen_at": ago(900)}, True),
        ("i-gone-401d", {"role": InstanceRole.TERMINATED, "terminated_at": ago(401)}, False),
        ("i-gone-399d", {"role": InstanceRole.TERMINATED, "terminated_at": ago(399)}, True),
    ]
    for key, fields, _ in instances:
        reason = {"termination_reason": TerminationReason.REPORTED} if "terminated_at" in fields else {}
        await uow.instances.add(make_instance(AGENT.agent_id, CLIENT, instance_id=InstanceId(key), **fields, **reason))
    return (
        [Case("episodes", k, kept) for k, _, kept in episodes]
        + [Case("replicas", k, kept) for k, _, kept in replicas]
        + [Case("instances", k, kept) for k, _, kept in instances]
    )


async def _ledger(uow: UnitOfWork) -> list[Case]:
    """Closed entries older than 400 days go only when their day has a final snapshot.

    An instance stays while a ledger entry names it (the entries' foreign key), even terminated long ago.
    """
    final_day, provisional_day, bare_day = (ago(401).date(), ago(402).date(), ago(403).date())
    rows = [
        ("l-open", ago(500), None, True),
        ("l-final-day", ago(401, hours=1), ago(401), False),
        ("l-provisional-day", ago(402, hours=1), ago(402), True),
        ("l-no-snapshot-day", ago(403, hours=1), ago(403), True),
        ("l-final-399d", ago(399, hours=1), ago(399), True),
    ]
    entries = [_entry(key, start, end) for key, start, end, _ in rows]
    for e in entries:
        await uow.instances.add(make_instance(AGENT.agent_id, CLIENT, instance_id=e.instance_id))
    booked = InstanceId("i-gone-401d-booked")
    await uow.instances.add(
        make_instance(
            AGENT.agent_id, CLIENT, instance_id=booked, role=InstanceRole.TERMINATED, terminated_at=ago(401),
            termination_reason=TerminationReason.REPORTED,
        )
    )  # fmt: skip
    kept_entry = _entry("l-booked-399d", ago(399, hours=2), ago(399, hours=1))
    kept_entry.instance_id = booked
    await uow.ledger.save([*entries, kept_entry])
    for day, final in ((final_day, True), (provisional_day, False), (ago(399).date(), True)):
        await uow.snapshots.add_daily(SavingsDailySnapshot.of(CLIENT, DailySavings(day=day), final=final, now=NOW))
    assert bare_day not in (final_day, provisional_day)
    return (
        [Case("ledger", key, kept) for key, _, _, kept in rows]
        + [Case("ledger", kept_entry.entry_id, True), Case("instances", booked, True)]
        + [Case("instances", e.instance_id, True) for e in entries]
    )


async def _messages(uow: UnitOfWork) -> list[Case]:
    notifications: list[tuple[str, dict[str, Any], bool]] = [
        ("n-read-31d", {"is_read": True, "read_at": ago(31), "created_at": ago(31)}, False),
        ("n-read-29d", {"is_read": True, "read_at": ago(29), "created_at": ago(29)}, True),
        ("n-unread-31d", {"created_at": ago(31)}, True),
        ("n-unread-91d", {"created_at": ago(91)}, False),
    ]
    for key, fields, _ in notifications:
        await uow.events.add_notification(make_notification(CLIENT, key, notification_id=key, **fields))
    events = [
        ("ev-info-91d", Severity.INFO, ago(91), False),
        ("ev-warning-89d", Severity.WARNING, ago(89), True),
        ("ev-error-91d", Severity.ERROR, ago(91), True),
        ("ev-critical-181d", Severity.CRITICAL, ago(181), False),
    ]
    for key, severity, created_at, _ in events:
        await uow.events.add_event(SystemEvent("", "test", severity, key, created_at, client_id=CLIENT))
    return [Case("notifications", k, kept) for k, _, kept in notifications] + [
        Case("events", k, kept) for k, _, _, kept in events
    ]


async def _reports(uow: UnitOfWork) -> list[Case]:
    rows = [("p-30d", ago(30), True), ("p-30d-and-1us", ago(30, microseconds=1), False)]
    for key, received_at, _ in rows:
        report = PricingReport(
            key, CLIENT, AGENT.agent_id, InstanceId("i-0000000a"), "t3.medium", "us-east-1", "us-east-1a", "spot",
            received_at,
        )  # fmt: skip
        await uow.pricing.add_report(report)
    return [Case("reports", key, kept) for key, _, kept in rows]


async def _owners(uow: UnitOfWork) -> list[Case]:
    """The client and agent every case belongs to (their foreign keys)."""
    await uow.clients.add(make_client(client_id=CLIENT))
    await uow.agents.add(AGENT)
    return []


async def seed(uow: UnitOfWork) -> list[Case]:
    """Store every case through the ports and commit; returns what must survive a cleanup at ``NOW``."""
    cases: list[Case] = []
    for part in (_owners, _commands, _lifecycles, _ledger, _messages, _reports):
        cases += await part(uow)
        await uow.commit()
    return cases


def survivors_in_memory(store: InMemoryStore) -> dict[str, set[str]]:
    return {
        "commands": set(store.commands),
        "episodes": set(store.episodes),
        "replicas": set(store.replicas),
        "instances": {i for _, i in store.instances},
        "ledger": set(store.ledger),
        "notifications": {n.notification_id for n in store.notifications.values()},
        "events": {e.message for e in store.events},
        "reports": {r.report_id for r in store.reports},
    }


async def survivors_in_database(session: AsyncSession) -> dict[str, set[str]]:
    columns: dict[str, Any] = {
        "commands": table_of(CommandModel).c.command_id,
        "episodes": table_of(EpisodeModel).c.episode_id,
        "replicas": table_of(ReplicaModel).c.replica_id,
        "instances": table_of(InstanceModel).c.instance_id,
        "ledger": table_of(LedgerEntryModel).c.entry_id,
        "notifications": table_of(NotificationModel).c.notification_id,
        "events": table_of(SystemEventModel).c.message,
        "reports": table_of(PricingReportModel).c.report_id,
    }
    return {kind: set((await session.execute(select(column))).scalars()) for kind, column in columns.items()}


def expected_survivors(cases: list[Case]) -> dict[str, set[str]]:
    kept: dict[str, set[str]] = {}
    for case in cases:
        kept.setdefault(case.kind, set())
        if case.kept:
            kept[case.kind].add(case.key)
    return kept
