"""A known savings history for the reconciliation tests: two tenants, three agents, five UTC days, spot and on-demand
periods, an unpriced interval, a standby, a kept-old overlap and a switch. Written through the ``UnitOfWork`` port,
so the same history seeds the in-memory fakes, SQLite and MariaDB. ``expected_*`` recompute the figures straight
from the entries (stored amounts of closed entries, open ones valued up to now), independently of the read service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.clients.client import Client
from spotopt.domain.commands.switch import InstanceFacts, Switch, SwitchTiming
from spotopt.domain.ledger.entry import MONEY_ZERO, CloseReason, LedgerEntry, LedgerEntryId, entry_amounts
from spotopt.domain.ledger.snapshots import day_end, day_start
from spotopt.domain.shared.ids import ClientId, InstanceId, SwitchId, new_id
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_agent, make_client, make_instance

NOW = datetime(2026, 3, 12, 15, 30, tzinfo=UTC)
TODAY = NOW.date()
FIRST_DAY = date(2026, 3, 8)
ONDEMAND = Decimal("0.041600")
POOL_A = "t3.medium.us-east-1a"
POOL_C = "t3.medium.us-east-1c"
DAY = timedelta(days=1)


def _at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return day_start(day) + timedelta(hours=hour, minutes=minute)


@dataclass
class SavingsHistory:
    client: Client
    other: Client
    agents: list[Agent] = field(default_factory=list)
    entries: list[LedgerEntry] = field(default_factory=list)
    switches: list[Switch] = field(default_factory=list)

    def entries_of(self, client_id: ClientId) -> list[LedgerEntry]:
        return [e for e in self.entries if e.client_id == client_id]


def _entry(
    agent: Agent,
    instance_id: str,
    role: InstanceRole,
    mode: Mode,
    start: datetime,
    end: datetime | None,
    price: str | None,
    *,
    pool_id: str | None = POOL_A,
    reason: CloseReason = CloseReason.DAY_BOUNDARY,
) -> LedgerEntry:
    price_value = Decimal(price) if price is not None else None
    baseline = ONDEMAND if role is InstanceRole.PRIMARY else None
    entry = LedgerEntry(
        entry_id=LedgerEntryId(new_id()),
        client_id=agent.client_id,
        agent_id=agent.agent_id,
        instance_id=InstanceId(instance_id),
        role=role,
        mode=mode,
        pool_id=pool_id if mode is Mode.SPOT else None,
        instance_type="t3.medium",
        region="us-east-1",
        started_at=start,
        price=price_value,
        baseline=baseline,
    )
    if end is not None:
        amounts = entry_amounts(role, price_value, baseline, end - start)
        entry.ended_at, entry.close_reason = end, reason
        entry.hours, entry.cost = amounts.hours, amounts.cost
        entry.baseline_cost, entry.savings = amounts.baseline_cost, amounts.savings
    return entry


def _daily(agent: Agent, instance_id: str, first: date, last: date, price: str | None) -> list[LedgerEntry]:
    """One closed spot primary entry per whole day (the ledger splits at midnight, LG-4)."""
    entries, day = [], first
    while day <= last:
        entries.append(_entry(agent, instance_id, InstanceRole.PRIMARY, Mode.SPOT, _at(day), _at(day + DAY), price))
        day += DAY
    return entries


async def seed_history(uow: UnitOfWork) -> SavingsHistory:
    """Write the history and commit it (set-up, not a use case)."""
    client = make_client(name="Reconcile Ltd", created_at=_at(FIRST_DAY) - DAY)
    other = make_client(name="Other Tenant", created_at=_at(FIRST_DAY) - DAY)
    history = SavingsHistory(client=client, other=other)
    web1 = make_agent(client.client_id, logical_agent_id="web-1")
    web2 = make_agent(client.client_id, logical_agent_id="web-2")
    api = make_agent(other.client_id, logical_agent_id="api-1")
    history.agents = [web1, web2, api]
    a1, a2, b1, b2, c1 = (
        "i-0000000000000a001",
        "i-0000000000000a002",
        "i-0000000000000b001",
        "i-0000000000000b002",
        "i-0000000000000c001",
    )
    instances = [
        make_instance(web1.agent_id, client.client_id, instance_id=a1, role=InstanceRole.TERMINATED),
        make_instance(web1.agent_id, client.client_id, instance_id=a2, mode=Mode.ONDEMAND),
        make_instance(web2.agent_id, client.client_id, instance_id=b1),
        make_instance(web2.agent_id, client.client_id, instance_id=b2, role=InstanceRole.STANDBY, az="us-east-1c"),
        make_instance(api.agent_id, other.client_id, instance_id=c1),
    ]
    d8, d9, d10, d11 = FIRST_DAY, FIRST_DAY + DAY, FIRST_DAY + 2 * DAY, FIRST_DAY + 3 * DAY
    od, sp, primary, standby, kept = (
        Mode.ONDEMAND,
        Mode.SPOT,
        InstanceRole.PRIMARY,
        InstanceRole.STANDBY,
        InstanceRole.KEPT_OLD,
    )
    history.entries = [
        # web-1: spot for three days, then a switch to on-demand at 03-11 10:00 (kept-old overlap of 5 minutes).
        *_daily(web1, a1, d8, d10, "0.012500"),
        _entry(web1, a1, primary, sp, _at(d11), _at(d11, 10), "0.012500", reason=CloseReason.SWITCH),
        _entry(web1, a1, kept, sp, _at(d11, 10), _at(d11, 10, 5), "0.012500", reason=CloseReason.TERMINATED),
        _entry(web1, a2, primary, od, _at(d11, 10), _at(d11 + DAY), "0.041600"),
        _entry(web1, a2, primary, od, _at(TODAY), None, "0.041600"),
        # web-2: from 03-09 noon, an unpriced interval on 03-10 (LG-7), a standby opened today at 09:00.
        _entry(web2, b1, primary, sp, _at(d9, 12), _at(d10), "0.010000"),
        _entry(web2, b1, primary, sp, _at(d10), _at(d10, 6), "0.010000", reason=CloseReason.PRICE_CHANGE),
        _entry(web2, b1, primary, sp, _at(d10, 6), _at(d10, 8), None, reason=CloseReason.PRICE_CHANGE),
        _entry(web2, b1, primary, sp, _at(d10, 8), _at(d11), "0.010000"),
        *_daily(web2, b1, d11, d11, "0.010000"),
        _entry(web2, b1, primary, sp, _at(TODAY), None, "0.010000"),
        _entry(web2, b2, standby, sp, _at(TODAY, 9), None, "0.013100", pool_id=POOL_C),
        # The other tenant: spot all along.
        *_daily(api, c1, d10, d11, "0.020000"),
        _entry(api, c1, primary, sp, _at(TODAY), None, "0.020000"),
    ]
    history.switches = [
        Switch(
            switch_id=SwitchId(new_id()), client_id=client.client_id, agent_id=web1.agent_id, logical_agent_id="web-1",
            origin="manual", old=InstanceFacts(InstanceId(a1), "t3.medium", "us-east-1", "us-east-1a", "spot", POOL_A),
            new=InstanceFacts(InstanceId(a2), "t3.medium", "us-east-1", "us-east-1a", "ondemand"),
            timing=SwitchTiming(),
            applied=True, received_at=_at(d11, 10, 6), old_price=Decimal("0.012500"), new_price=ONDEMAND,
            baseline=ONDEMAND,
        )
    ]  # fmt: skip
    for c in (client, other):
        await uow.clients.add(c)
    for agent in history.agents:
        await uow.agents.add(agent)
    await uow.flush()
    for instance in instances:
        await uow.instances.add(instance)
    await uow.flush()
    await uow.ledger.save(history.entries)
    for switch in history.switches:
        await uow.switches.add(switch)
    await uow.commit()
    return history


def expected_day(entries: Iterable[LedgerEntry], day: date, now: datetime = NOW) -> Decimal:
    """Σ savings of the day's priced entries: stored for closed ones, valued up to ``now`` for open ones."""
    total = MONEY_ZERO
    start, end = day_start(day), day_end(day)
    for e in entries:
        if e.ended_at is not None:
            if start <= e.started_at < end and e.savings is not None:
                total += e.savings
        elif e.started_at < end and start <= now:
            amounts = entry_amounts(e.role, e.price, e.baseline, min(now, end) - max(e.started_at, start))
            total += amounts.savings if amounts.savings is not None else MONEY_ZERO
    return total


def expected_total(entries: Iterable[LedgerEntry], first: date = FIRST_DAY, last: date = TODAY) -> Decimal:
    entries = list(entries)
    total, day = MONEY_ZERO, first
    while day <= last:
        total += expected_day(entries, day)
        day += DAY
    return total
