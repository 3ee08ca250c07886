"""A small ledger world over the in-memory fakes: one client, agents, instances, buckets and the accrual job."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from spotopt.application.ledger.accrue_ledger import (
    AccrueLedger,
    AccrueLedgerCommand,
    AccrueLedgerResult,
    last_completed_bucket,
)
from spotopt.application.ledger.ledger_book import LedgerBook
from spotopt.application.ledger.snapshot_savings import (
    SnapshotKind,
    SnapshotSavings,
    SnapshotSavingsCommand,
    SnapshotSavingsResult,
)
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.clients.client import Client
from spotopt.domain.ledger.accrual import open_entry
from spotopt.domain.ledger.entry import LedgerEntry, LedgerPrice
from spotopt.domain.pricing.market import OnDemandPrice
from spotopt.domain.shared.ids import InstanceId
from tests.factories.agents import make_agent, make_client, make_instance
from tests.factories.pricing import make_bucket
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork

ONDEMAND = Decimal("0.041600")
POOL_A = "t3.medium.us-east-1a"
POOL_C = "t3.medium.us-east-1c"
INSTANCE_A = InstanceId("i-0000000a")
INSTANCE_B = InstanceId("i-0000000b")
FIVE_MINUTES = timedelta(minutes=5)


def port(uow: object) -> UnitOfWork:
    """A unit of work (fake or SQL) as the port. The cast only bridges the invariance of the protocol's mutable
    attributes; every repository is checked against its own port in the repository contract tests."""
    return cast("UnitOfWork", uow)


def at(day: int, hour: int = 0, minute: int = 0, *, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class LedgerWorld:
    """Set-up writes the tables directly (committed state); every job call is its own scope."""

    uow: InMemoryUnitOfWork = field(default_factory=InMemoryUnitOfWork)
    clock: FixedClock = field(default_factory=lambda: FixedClock(at(9)))
    client: Client = field(default_factory=lambda: make_client(created_at=at(1, month=1)))
    agents: list[Agent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.uow.store.clients[self.client.client_id] = self.client
        self.set_ondemand(ONDEMAND)

    def add_agent(self, **overrides: Any) -> Agent:
        agent = make_agent(self.client.client_id, **overrides)
        self.uow.store.agents[agent.agent_id] = agent
        self.agents.append(agent)
        return agent

    @property
    def agent(self) -> Agent:
        return self.agents[0] if self.agents else self.add_agent()

    def add_instance(self, agent: Agent | None = None, **overrides: Any) -> Instance:
        owner = agent or self.agent
        values: dict[str, Any] = {"instance_id": INSTANCE_A, "first_seen_at": at(1), "role_changed_at": at(1)}
        values.update(overrides)
        instance = make_instance(owner.agent_id, self.client.client_id, **values)
        self.uow.store.instances[(instance.client_id, instance.instance_id)] = instance
        return instance

    def set_ondemand(self, price: Decimal, observed_at: datetime | None = None) -> None:
        self.uow.store.ondemand[("t3.medium", "us-east-1")] = OnDemandPrice(
            "t3.medium", "us-east-1", price, "aws-pricing-api", observed_at or at(1)
        )

    def price(self, pool_id: str, start: datetime, end: datetime, price: str) -> None:
        """Measured buckets of ``pool_id`` every 5 minutes in ``[start, end)``."""
        t = start
        while t < end:
            self.uow.buckets.put(make_bucket(pool_id, t, price))
            t += FIVE_MINUTES

    def open(
        self, instance: Instance, start: datetime, price: str | None, baseline: Decimal | None = ONDEMAND
    ) -> LedgerEntry:
        """An entry opened at ``start`` as a request would (no midnight rolled later than ``start``)."""
        quote = LedgerPrice(None if price is None else Decimal(price))
        change = open_entry(instance, start, start, price=quote, baseline=baseline)
        for entry in change.changed:
            self.uow.store.ledger[entry.entry_id] = entry
        assert change.current is not None
        return change.current

    def entries(self, instance_id: InstanceId | None = None) -> list[LedgerEntry]:
        found = (e for e in self.uow.store.ledger.values() if instance_id is None or e.instance_id == instance_id)
        return sorted(found, key=lambda e: (e.instance_id, e.started_at))

    async def accrue(self, now: datetime, **command: Any) -> AccrueLedgerResult:
        self.clock.current = now
        uow = port(self.uow)
        async with self.uow:
            return await AccrueLedger(uow, self.clock, LedgerBook(uow)).execute(AccrueLedgerCommand(**command))

    async def accrue_ticks(self, first: datetime, last: datetime) -> None:
        """The accrual job at every tick (hh:02, hh:07, …) in ``[first, last]``."""
        tick = last_completed_bucket(first) + FIVE_MINUTES + timedelta(minutes=2)
        while tick <= last:
            await self.accrue(tick)
            tick += FIVE_MINUTES

    async def snapshot(self, now: datetime, *kinds: SnapshotKind, **command: Any) -> SnapshotSavingsResult:
        self.clock.current = now
        chosen = frozenset(kinds) if kinds else frozenset(SnapshotKind)
        async with self.uow:
            return await SnapshotSavings(port(self.uow), self.clock).execute(
                SnapshotSavingsCommand(kinds=chosen, **command)
            )


def priced_sum(entries: Iterable[LedgerEntry], name: str) -> Decimal:
    """Σ of an amount over priced entries (LG-7: unpriced ones stay out of sums)."""
    return sum((getattr(e, name) for e in entries if e.savings is not None), Decimal(0))


def closed_in_day(entries: Iterable[LedgerEntry], day: date) -> list[LedgerEntry]:
    return [e for e in entries if not e.is_open and e.started_at.date() == day]


def standby(world: LedgerWorld, agent: Agent | None = None, **overrides: Any) -> Instance:
    values: dict[str, Any] = {"instance_id": INSTANCE_B, "role": InstanceRole.STANDBY, "az": "us-east-1c"}
    values.update(overrides)
    return world.add_instance(agent, **values)
