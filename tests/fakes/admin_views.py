"""Fakes of the admin read ports and of the job monitor (same rules as the SQL adapters)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from spotopt.application.jobs.names import JobName, RunStatus
from spotopt.application.jobs.schedule import BackgroundJobs, JobActivity, JobSpec, assess_background_jobs
from spotopt.application.ports.admin_views import (
    HIT_ORDER,
    ActivityFilter,
    AgentFilter,
    AgentListing,
    HealthCounts,
    HitType,
    InstanceFilter,
    InstanceListing,
    SearchHit,
)
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.display_status import display_status
from spotopt.domain.agents.values import Lifecycle, Liveness
from spotopt.domain.commands.values import CommandStatus, CommandType
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.interruptions.values import OPEN_EPISODE, EpisodeState
from spotopt.domain.notifications.notification import SystemEvent
from spotopt.domain.replicas.current import ReplicaBrief
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaStatus
from spotopt.domain.shared.events import Severity
from tests.fakes.store import InMemoryStore
from tests.fakes.system import InMemoryJobRuns


class InMemoryJobMonitor:
    """``JobMonitor`` over in-memory job-run rows, judged by the same rule as ``SqlAlchemyJobMonitor`` (H1)."""

    def __init__(self, runs: InMemoryJobRuns, specs: Mapping[JobName, JobSpec], *, enabled: bool = True) -> None:
        self._runs = runs
        self._specs = specs
        self._enabled = enabled

    async def status(self, now: datetime) -> str:
        if not self._enabled:
            return BackgroundJobs.DISABLED
        rows = list(self._runs.rows.values())
        ticks: dict[str, datetime] = {}
        for row in rows:
            if row.status is not RunStatus.ERROR and (row.job not in ticks or ticks[row.job] < row.tick):
                ticks[row.job] = row.tick
        activity = JobActivity(
            last_started_at=max((r.started_at for r in rows), default=None),
            first_started_at=min((r.started_at for r in rows), default=None),
            last_ticks=ticks,
        )
        return assess_background_jobs(now, activity, self._specs)


class StubDatabaseProbe:
    def __init__(self, *, up: bool = True) -> None:
        self.up = up

    async def ping(self) -> bool:
        return self.up


class InMemoryAdminFleetView:
    """``AdminFleetView`` over the shared store, with the SQL view's filters, order and derived status (M8, M9)."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    def switching(self, agent: Agent) -> bool:
        s = self.store
        return any(
            c.agent_id == agent.agent_id and c.status is CommandStatus.DELIVERED and c.type is CommandType.SWITCH
            for c in s.commands.values()
        ) or any(e.agent_id == agent.agent_id and e.state is EpisodeState.TERMINATING for e in s.episodes.values())

    async def agents(self, flt: AgentFilter, *, limit: int, offset: int) -> tuple[Sequence[AgentListing], int]:
        rows = []
        for agent in self.store.agents.values():
            if flt.client_id is not None and agent.client_id != flt.client_id:
                continue
            if agent.is_deleted and not flt.include_deleted:
                continue
            status = display_status(agent, switching=self.switching(agent))
            if flt.statuses and status not in flt.statuses:
                continue
            rows.append((agent, status))
        rows.sort(key=lambda row: row[0].agent_id)
        rows.sort(key=lambda row: row[0].last_heartbeat_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        page = [
            AgentListing(
                agent=agent,
                client_name=self.store.clients[agent.client_id].name,
                status=status,
                replicas=[
                    ReplicaBrief(replica_id=r.replica_id, status=r.status, created_at=r.created_at)
                    for r in self.store.replicas.values()
                    if r.agent_id == agent.agent_id and r.status in NON_TERMINAL_REPLICA
                ],
            )
            for agent, status in rows[offset : offset + limit]
        ]
        return page, len(rows)

    async def instances(self, flt: InstanceFilter, *, limit: int, offset: int) -> tuple[Sequence[InstanceListing], int]:
        rows = [
            i
            for i in self.store.instances.values()
            if (flt.client_id is None or i.client_id == flt.client_id)
            and (not flt.roles or i.role in flt.roles)
            and (flt.mode is None or i.mode is flt.mode)
            and (flt.region is None or i.region == flt.region)
        ]
        rows.sort(key=lambda i: i.instance_id)
        rows.sort(key=lambda i: i.first_seen_at, reverse=True)
        page = []
        for i in rows[offset : offset + limit]:
            entry = next(
                (
                    e
                    for e in self.store.ledger.values()
                    if e.client_id == i.client_id and e.instance_id == i.instance_id and e.is_open
                ),
                None,
            )
            page.append(
                InstanceListing(
                    instance=i,
                    client_name=self.store.clients[i.client_id].name,
                    logical_agent_id=self.store.agents[i.agent_id].logical_agent_id,
                    current_price=entry.price if entry else None,
                    baseline=entry.baseline if entry else None,
                )
            )
        return page, len(rows)


class InMemoryAdminActivityView:
    """``AdminActivityView`` over the shared store (M10, M11)."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def events(self, flt: ActivityFilter, *, limit: int, offset: int) -> tuple[Sequence[SystemEvent], int]:
        rows = [
            e
            for e in self.store.events
            if flt.since <= e.created_at <= flt.until
            and (not flt.severities or e.severity in flt.severities)
            and (not flt.types or e.type in flt.types)
            and (flt.client_id is None or e.client_id == flt.client_id)
        ]
        rows.sort(key=lambda e: int(e.event_id or 0))
        rows.sort(key=lambda e: e.created_at, reverse=True)
        return rows[offset : offset + limit], len(rows)

    async def health_counts(self, now: datetime) -> HealthCounts:
        s = self.store
        stale_before, day_ago, hour_ago = (
            now - timedelta(seconds=120),
            now - timedelta(hours=24),
            now - timedelta(hours=1),
        )
        return HealthCounts(
            stale_agents=sum(
                1
                for a in s.agents.values()
                if a.lifecycle is Lifecycle.ACTIVE
                and a.liveness is Liveness.ONLINE
                and a.last_heartbeat_at is not None
                and a.last_heartbeat_at < stale_before
            ),
            failed_replicas_24h=sum(
                1
                for r in s.replicas.values()
                if r.status is ReplicaStatus.FAILED and r.failed_at is not None and r.failed_at >= day_ago
            ),
            recent_errors_1h=sum(
                1 for e in s.events if e.severity in (Severity.ERROR, Severity.CRITICAL) and e.created_at >= hour_ago
            ),
            open_episodes=sum(1 for e in s.episodes.values() if e.state in OPEN_EPISODE),
        )


class InMemoryFleetSearch:
    """``FleetSearch`` over the shared store: literal, case-insensitive substring match; the SQL view's order."""

    def __init__(self, store: InMemoryStore, fleet: InMemoryAdminFleetView | None = None) -> None:
        self.store = store
        self._fleet = fleet or InMemoryAdminFleetView(store)

    async def search(
        self, text: str, types: frozenset[HitType], *, limit: int, offset: int
    ) -> tuple[Sequence[SearchHit], int]:
        needle = text.lower()
        hits = [hit for kind in HIT_ORDER if kind in types for hit in self._hits(kind, needle)]
        hits.sort(key=lambda h: (not h.exact, HIT_ORDER.index(h.type), h.label, h.id))
        return hits[offset : offset + limit], len(hits)

    def _hits(self, kind: HitType, needle: str) -> Iterator[SearchHit]:
        s = self.store
        if kind is HitType.CLIENT:
            for c in s.clients.values():
                hit = _candidate(kind, c.client_id, c.name, c.client_id, c.name, None, c.status.value)
                yield from _matching(needle, hit, [("id", c.client_id), ("name", c.name), ("email", c.email)])
        elif kind is HitType.AGENT:
            for a in s.agents.values():
                status = display_status(a, switching=self._fleet.switching(a)).value
                name = s.clients[a.client_id].name
                hit = _candidate(kind, a.agent_id, a.logical_agent_id, a.client_id, name, a.agent_id, status)
                fields = [("id", a.agent_id), ("logical_agent_id", a.logical_agent_id), ("hostname", a.hostname)]
                yield from _matching(needle, hit, fields)
        elif kind is HitType.INSTANCE:
            for i in s.instances.values():
                name = s.clients[i.client_id].name
                hit = _candidate(kind, i.instance_id, i.instance_id, i.client_id, name, i.agent_id, i.role.value)
                yield from _matching(needle, hit, [("instance_id", i.instance_id)])
        else:
            for r in s.replicas.values():
                name = s.clients[r.client_id].name
                hit = _candidate(kind, r.replica_id, r.replica_id, r.client_id, name, r.agent_id, r.status.value)
                yield from _matching(needle, hit, [("id", r.replica_id), ("instance_id", r.instance_id)])


def _candidate(*values: Any) -> SearchHit:
    kind, hit_id, label, client_id, client_name, agent_id, status = values
    return SearchHit(
        type=kind,
        id=hit_id,
        label=label,
        client_id=client_id,
        client_name=client_name,
        agent_id=agent_id,
        matched_field="",
        status=status,
        exact=False,
    )


def _matching(needle: str, hit: SearchHit, fields: list[tuple[str, str | None]]) -> Iterator[SearchHit]:
    """The hit when ``needle`` is a substring of a field (the first such field is the matched one)."""
    matched = next((name for name, value in fields if value is not None and needle in value.lower()), None)
    if matched is not None:
        yield replace(hit, matched_field=matched, exact=hit.id.lower() == needle)


class FixedPolicyStore:
    """``PolicyStore`` answering one document."""

    def __init__(self, document: PolicyDocument | None = None) -> None:
        self.document = document or PolicyDocument()

    async def active(self) -> PolicyDocument:
        return self.document
