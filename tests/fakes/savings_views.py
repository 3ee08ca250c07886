"""Fakes of the read views (``application/ports/savings_views.py``) over the shared in-memory tables."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from spotopt.application.ports.savings_views import ClientCounts, FleetCounts, SwitchFilter
from spotopt.domain.agents.values import InstanceRole, Lifecycle, Liveness
from spotopt.domain.clients.client import Client, ClientStatus
from spotopt.domain.commands.switch import Switch
from spotopt.domain.interruptions.values import OPEN_EPISODE, EpisodeState
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.ledger.snapshots import SavingsDailySnapshot
from spotopt.domain.shared.ids import ClientId
from tests.fakes.store import InMemoryRepository


class InMemorySavingsViews(InMemoryRepository):
    async def final_days(
        self, client_ids: Sequence[ClientId], first: date, last: date
    ) -> Sequence[SavingsDailySnapshot]:
        found = [
            s for (c, d), s in self.store.daily_snapshots.items() if c in client_ids and first <= d <= last and s.final
        ]
        return sorted(found, key=lambda s: (s.client_id, s.day))

    async def final_savings_totals(self, client_ids: Sequence[ClientId], before: date) -> Mapping[ClientId, Decimal]:
        totals: dict[ClientId, Decimal] = {}
        for s in self.store.daily_snapshots.values():
            if s.client_id in client_ids and s.day < before and s.final:
                totals[s.client_id] = totals.get(s.client_id, Decimal(0)) + s.figures.savings
        return totals

    async def ledger_entries(
        self, client_ids: Sequence[ClientId], spans: Sequence[tuple[datetime, datetime]]
    ) -> Sequence[LedgerEntry]:
        found = [
            e
            for e in self.store.ledger.values()
            if e.client_id in client_ids and (e.is_open or any(a <= e.started_at < b for a, b in spans))
        ]
        return sorted(found, key=lambda e: (e.started_at, e.entry_id))

    async def count_switches(
        self, client_ids: Sequence[ClientId], start: datetime, end: datetime
    ) -> Mapping[ClientId, int]:
        return Counter(
            s.client_id
            for s in self.store.switches.values()
            if s.client_id in client_ids and start <= s.received_at < end
        )

    async def count_failovers(
        self, client_ids: Sequence[ClientId], start: datetime, end: datetime
    ) -> Mapping[ClientId, int]:
        return Counter(
            e.client_id
            for e in self.store.episodes.values()
            if e.client_id in client_ids
            and e.state is EpisodeState.FAILED_OVER
            and e.closed_at is not None
            and start <= e.closed_at < end
        )


class InMemorySwitchHistoryViews(InMemoryRepository):
    async def page_switches(self, query: SwitchFilter, *, limit: int, offset: int) -> tuple[Sequence[Switch], int]:
        found = [s for s in self.store.switches.values() if _matches(s, query)]
        found.sort(key=lambda s: s.switch_id)
        found.sort(key=lambda s: s.received_at, reverse=True)
        return found[offset : offset + limit], len(found)

    async def origin_counts(self, client_id: ClientId, start: datetime, end: datetime) -> Mapping[str, int]:
        return Counter(
            s.origin for s in self.store.switches.values() if s.client_id == client_id and start <= s.received_at <= end
        )


def _matches(s: Switch, q: SwitchFilter) -> bool:
    return (
        s.client_id == q.client_id
        and q.since <= s.received_at <= q.until
        and (q.agent_id is None or s.agent_id == q.agent_id)
        and (q.instance_id is None or q.instance_id in (s.old.instance_id, s.new.instance_id))
        and (not q.origins or s.origin in q.origins)
    )


class InMemoryFleetViews(InMemoryRepository):
    async def page_clients(
        self, status: ClientStatus | None, *, limit: int, offset: int
    ) -> tuple[Sequence[Client], int]:
        found = [c for c in self.store.clients.values() if status is None or c.status is status]
        found.sort(key=lambda c: c.client_id)
        found.sort(key=lambda c: c.created_at, reverse=True)
        return found[offset : offset + limit], len(found)

    async def list_clients(self, *, include_inactive: bool) -> Sequence[Client]:
        found = [c for c in self.store.clients.values() if include_inactive or c.status is ClientStatus.ACTIVE]
        return sorted(found, key=lambda c: (c.created_at, c.client_id))

    async def client_counts(self, client_ids: Sequence[ClientId]) -> Mapping[ClientId, ClientCounts]:
        return {c: counts for c in client_ids if (counts := self._counts(c)) != ClientCounts()}

    async def primary_modes(self, client_id: ClientId) -> Mapping[str, int]:
        live = {a.agent_id for a in self.store.agents.values() if a.lifecycle is Lifecycle.ACTIVE}
        return Counter(
            i.mode.value
            for i in self.store.instances.values()
            if i.client_id == client_id and i.agent_id in live and i.role is InstanceRole.PRIMARY
        )

    async def fleet_counts(self, *, pools_seen_since: datetime) -> FleetCounts:
        per_client = [self._counts(c) for c in self.store.clients]
        return FleetCounts(
            active_clients=sum(1 for c in self.store.clients.values() if c.status is ClientStatus.ACTIVE),
            totals=ClientCounts(*(sum(getattr(c, f) for c in per_client) for f in ClientCounts.__slots__)),
            open_episodes=sum(1 for e in self.store.episodes.values() if e.state in OPEN_EPISODE),
            pools_available=sum(1 for p in self.store.pools.values() if p.last_seen_at >= pools_seen_since),
        )

    def _counts(self, client_id: str) -> ClientCounts:
        agents = [a for a in self.store.agents.values() if a.client_id == client_id and a.lifecycle is Lifecycle.ACTIVE]
        ids = {a.agent_id for a in agents}
        roles = Counter(i.role for i in self.store.instances.values() if i.agent_id in ids)
        return ClientCounts(
            agents=len(agents),
            agents_online=sum(1 for a in agents if a.liveness is Liveness.ONLINE),
            primary=roles[InstanceRole.PRIMARY],
            standby=roles[InstanceRole.STANDBY],
            kept_old=roles[InstanceRole.KEPT_OLD],
        )
