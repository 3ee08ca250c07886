"""``InMemoryClientViews``: the client routes' read models over the in-memory store (committed and pending state
alike, as the SQL views read inside the request's transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from spotopt.application.agents.config_view import current_replica
from spotopt.application.ports.client_views import (
    AgentFilter,
    AgentView,
    DecisionFilter,
    DecisionView,
    FleetCounts,
    InstanceFilter,
    InstanceView,
    PageRequest,
    ReplicaFilter,
    ReplicaView,
)
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceRole, Lifecycle, Liveness
from spotopt.domain.commands.values import CommandStatus, CommandType
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.pricing.market import PricingReport
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA
from spotopt.domain.shared.ids import ClientId
from tests.fakes.store import InMemoryRepository

T = TypeVar("T")


def _page(items: Iterable[T], key: Callable[[T], Any], page: PageRequest) -> tuple[list[T], int]:
    ordered = sorted(items, key=key)
    return ordered[page.offset : page.offset + page.limit], len(ordered)


def _newest_first(at: datetime, ident: str) -> tuple[float, str]:
    return (-at.timestamp(), ident)


class InMemoryClientViews(InMemoryRepository):
    async def owns_agent(self, client_id: ClientId, agent_id: str) -> bool:
        agent = self.store.agents.get(agent_id)
        return agent is not None and agent.client_id == client_id

    async def fleet_counts(self, client_id: ClientId) -> FleetCounts:
        agents = [a for a in self.store.agents.values() if a.client_id == client_id and not a.is_deleted]
        ids = {a.agent_id for a in agents}
        roles = [i.role for i in self.store.instances.values() if i.client_id == client_id and i.agent_id in ids]
        beats = [a.last_heartbeat_at for a in agents if a.last_heartbeat_at is not None]
        return FleetCounts(
            agent_count=len(agents),
            agents_online=sum(1 for a in agents if a.liveness is Liveness.ONLINE),
            primary_count=roles.count(InstanceRole.PRIMARY),
            standby_count=roles.count(InstanceRole.STANDBY),
            kept_old_count=roles.count(InstanceRole.KEPT_OLD),
            last_heartbeat_at=max(beats, default=None),
        )

    async def final_savings_before(self, client_id: ClientId, day: date) -> Decimal:
        snapshots = self.store.daily_snapshots.values()
        return sum(
            (s.figures.savings for s in snapshots if s.client_id == client_id and s.final and s.day < day),
            Decimal(0),
        )

    def _switching(self, agent_id: str, now: datetime) -> bool:
        delivered = any(
            c.agent_id == agent_id
            and c.type is CommandType.SWITCH
            and c.status is CommandStatus.DELIVERED
            and c.lease_expires_at is not None
            and c.lease_expires_at > now
            for c in self.store.commands.values()
        )
        terminating = any(
            e.agent_id == agent_id and e.state is EpisodeState.TERMINATING for e in self.store.episodes.values()
        )
        return delivered or terminating

    async def agents(
        self, client_id: ClientId, where: AgentFilter, page: PageRequest, now: datetime
    ) -> tuple[Sequence[AgentView], int]:
        views = []
        for agent in self.store.agents.values():
            if agent.client_id != client_id or (agent.lifecycle is Lifecycle.DELETED and not where.include_deleted):
                continue
            live = [
                r
                for r in self.store.replicas.values()
                if r.agent_id == agent.agent_id and r.status in NON_TERMINAL_REPLICA
            ]
            best = current_replica(live)
            view = AgentView(
                agent=agent,
                switching=self._switching(agent.agent_id, now),
                replica_count=len(live),
                current_replica_id=best.replica_id if best else None,
            )
            if where.statuses is None or view.status in where.statuses:
                views.append(view)
        return _page(views, lambda v: _newest_first(v.agent.created_at, v.agent.agent_id), page)

    def _instance_view(self, instance: Instance) -> InstanceView:
        open_entry = next(
            (
                e
                for e in self.store.ledger.values()
                if e.client_id == instance.client_id and e.instance_id == instance.instance_id and e.is_open
            ),
            None,
        )
        ondemand = self.store.ondemand.get((instance.instance_type, instance.region))
        return InstanceView(
            instance=instance,
            logical_agent_id=self.store.agents[instance.agent_id].logical_agent_id,
            current_price=open_entry.price if open_entry else None,
            baseline=ondemand.price if ondemand else None,
        )

    async def instances(
        self, client_id: ClientId, where: InstanceFilter, page: PageRequest
    ) -> tuple[Sequence[InstanceView], int]:
        found = [
            i
            for i in self.store.instances.values()
            if i.client_id == client_id
            and i.role in where.roles
            and (not where.kept_reasons or i.kept_reason in where.kept_reasons)
            and (where.mode is None or i.mode is where.mode)
            and (where.agent_id is None or i.agent_id == where.agent_id)
        ]
        rows, total = _page(found, lambda i: _newest_first(i.first_seen_at, i.instance_id), page)
        return [self._instance_view(i) for i in rows], total

    async def instance(self, client_id: ClientId, instance_id: str) -> InstanceView | None:
        found = self.store.instances.get((client_id, instance_id))
        return None if found is None else self._instance_view(found)

    async def replicas(
        self, client_id: ClientId, where: ReplicaFilter, page: PageRequest
    ) -> tuple[Sequence[ReplicaView], int]:
        found = [
            r
            for r in self.store.replicas.values()
            if r.client_id == client_id
            and r.status in where.statuses
            and (where.agent_id is None or r.agent_id == where.agent_id)
        ]
        rows, total = _page(found, lambda r: _newest_first(r.created_at, r.replica_id), page)
        agents = self.store.agents
        return [ReplicaView(replica=r, logical_agent_id=agents[r.agent_id].logical_agent_id) for r in rows], total

    async def decisions(
        self, client_id: ClientId, where: DecisionFilter, page: PageRequest
    ) -> tuple[Sequence[DecisionView], int]:
        agents = {a.agent_id: a for a in self.store.agents.values() if a.client_id == client_id}
        found = [
            d
            for d in self.store.decisions.values()
            if d.agent_id in agents
            and d.evaluated_at >= where.since
            and (where.agent_id is None or d.agent_id == where.agent_id)
            and (not where.triggers or d.trigger in where.triggers)
            and (not where.actions or d.action in where.actions)
        ]
        rows, total = _page(found, lambda d: _newest_first(d.evaluated_at, d.decision_id or ""), page)
        return [DecisionView(decision=d, logical_agent_id=agents[d.agent_id].logical_agent_id) for d in rows], total

    async def pricing_reports(
        self, client_id: ClientId, since: datetime, agent_id: str | None, page: PageRequest
    ) -> tuple[Sequence[PricingReport], int]:
        found = [
            r
            for r in self.store.reports
            if r.client_id == client_id and r.received_at >= since and (agent_id is None or r.agent_id == agent_id)
        ]
        return _page(found, lambda r: _newest_first(r.received_at, r.report_id), page)
