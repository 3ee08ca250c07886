"""In-memory fakes of our ports (house style §13): public state for assertions, no mocks."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from spotopt.application.errors import ConflictError
from spotopt.application.jobs import JobRun, RunStatus
from spotopt.application.ports import AgentRef, StaleAgent, SwitchActivity
from spotopt.domain.agents import Agent
from spotopt.domain.clients import Client
from spotopt.domain.commands import Command
from spotopt.domain.decision_guards import Trigger
from spotopt.domain.decisions import Decision
from spotopt.domain.episodes import InterruptionEpisode, InterruptionSignal
from spotopt.domain.estimation import PoolStats
from spotopt.domain.events import Notification, Severity, SystemEvent
from spotopt.domain.gap_filling import InterpolationRecord
from spotopt.domain.instances import Instance
from spotopt.domain.ledger import LedgerEntry
from spotopt.domain.price_buckets import BucketKey, CleanPriceBucket
from spotopt.domain.pricing import OnDemandObservation, OnDemandPrice, PricingReport, PricingSubmission, SpotPool
from spotopt.domain.replicas import Replica
from spotopt.domain.retention import RetentionRule
from spotopt.domain.sightings import UnattachedSighting
from spotopt.domain.snapshots import (
    ClientGrowthSnapshot,
    ClientLifetime,
    SavingsDailySnapshot,
    SavingsMonthlySnapshot,
    day_end,
    day_start,
)
from spotopt.domain.switches import CleanupRecord, Switch
from spotopt.domain.values import (
    NON_TERMINAL_REPLICA,
    OPEN_EPISODE,
    TERMINAL_COMMAND,
    AgentId,
    ClientId,
    ClientStatus,
    CommandId,
    CommandOrigin,
    CommandStatus,
    CommandType,
    EpisodeId,
    EpisodeState,
    InstanceRole,
    KeptReason,
    Lifecycle,
    Liveness,
    ReplicaStatus,
    SignalKind,
)


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


class StubTokenHasher:
    def __init__(self) -> None:
        self.issued = 0

    def issue_client_token(self) -> str:
        self.issued += 1
        return f"spo_{self.issued:043d}"

    def issue_admin_token(self) -> str:
        self.issued += 1
        return f"spoa_{self.issued:043d}"

    def hash(self, token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class InMemoryStore:
    clients: dict[str, Client] = field(default_factory=dict)
    admin_tokens: set[str] = field(default_factory=set)
    agents: dict[str, Agent] = field(default_factory=dict)
    instances: dict[tuple[str, str], Instance] = field(default_factory=dict)
    sightings: dict[tuple[str, str], UnattachedSighting] = field(default_factory=dict)
    commands: dict[str, Command] = field(default_factory=dict)
    replicas: dict[str, Replica] = field(default_factory=dict)
    episodes: dict[str, InterruptionEpisode] = field(default_factory=dict)
    signals: list[InterruptionSignal] = field(default_factory=list)
    switches: dict[str, Switch] = field(default_factory=dict)
    cleanups: dict[str, CleanupRecord] = field(default_factory=dict)
    reports: list[PricingReport] = field(default_factory=list)
    submissions: dict[str, PricingSubmission] = field(default_factory=dict)
    pools: dict[str, SpotPool] = field(default_factory=dict)
    ondemand: dict[tuple[str, str], OnDemandPrice] = field(default_factory=dict)
    ondemand_observations: list[OnDemandObservation] = field(default_factory=list)
    events: list[SystemEvent] = field(default_factory=list)
    notifications: dict[tuple[str, str], Notification] = field(default_factory=dict)
    ledger: dict[str, LedgerEntry] = field(default_factory=dict)
    buckets: dict[tuple[str, datetime], CleanPriceBucket] = field(default_factory=dict)
    interpolation_records: dict[str, InterpolationRecord] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)
    daily_snapshots: dict[tuple[str, date], SavingsDailySnapshot] = field(default_factory=dict)
    monthly_snapshots: dict[tuple[str, int, int], SavingsMonthlySnapshot] = field(default_factory=dict)
    growth_snapshots: dict[date, ClientGrowthSnapshot] = field(default_factory=dict)


class InMemoryClientRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def get(self, client_id: ClientId) -> Client | None:
        return self.store.clients.get(client_id)

    async def get_for_update(self, client_id: ClientId) -> Client | None:
        return self.store.clients.get(client_id)

    async def get_by_token_hash(self, token_hash: str) -> Client | None:
        return next((c for c in self.store.clients.values() if c.token_hash == token_hash), None)

    async def find_by_name(self, name: str) -> Client | None:
        return next((c for c in self.store.clients.values() if c.name.lower() == name.lower()), None)

    async def find_by_email(self, email: str) -> Client | None:
        return next((c for c in self.store.clients.values() if c.email == email), None)

    async def add(self, client: Client) -> None:
        self.store.clients[client.client_id] = client


class InMemoryAdminTokenRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def exists(self, token_hash: str) -> bool:
        return token_hash in self.store.admin_tokens

    async def add(self, token_hash: str, token_hint: str, created_at: datetime) -> None:
        self.store.admin_tokens.add(token_hash)


class InMemoryAgentRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def get(self, client_id: ClientId, agent_id: str) -> Agent | None:
        agent = self.store.agents.get(agent_id)
        if agent is None or agent.client_id != client_id or agent.lifecycle is Lifecycle.DELETED:
            return None
        return agent

    async def get_for_update(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return await self.get(client_id, agent_id)

    async def find_active_by_logical_id(
        self, client_id: ClientId, logical_agent_id: str, *, for_update: bool = False
    ) -> Agent | None:
        return next(
            (
                a
                for a in self.store.agents.values()
                if a.client_id == client_id
                and a.logical_agent_id == logical_agent_id
                and a.lifecycle is Lifecycle.ACTIVE
            ),
            None,
        )

    async def count_active(self, client_id: ClientId) -> int:
        return sum(1 for a in self.store.agents.values() if a.client_id == client_id and not a.is_deleted)

    async def add(self, agent: Agent) -> None:
        if agent.lifecycle is Lifecycle.ACTIVE and any(
            a.client_id == agent.client_id
            and a.logical_agent_id == agent.logical_agent_id
            and a.lifecycle is Lifecycle.ACTIVE
            and a.agent_id != agent.agent_id
            for a in self.store.agents.values()
        ):
            raise ConflictError("The change conflicts with existing data", code="conflict")  # AG-1, as the SQL key
        self.store.agents[agent.agent_id] = agent

    async def list_stale_online(self, cutoff: datetime, limit: int) -> Sequence[StaleAgent]:
        stale = [
            a
            for a in self.store.agents.values()
            if a.lifecycle is Lifecycle.ACTIVE
            and a.liveness is Liveness.ONLINE
            and a.last_heartbeat_at is not None
            and a.last_heartbeat_at < cutoff
        ]
        stale.sort(key=lambda a: (a.last_heartbeat_at or cutoff, a.agent_id))
        return [
            StaleAgent(client_id=a.client_id, agent_id=a.agent_id, last_heartbeat_at=a.last_heartbeat_at or cutoff)
            for a in stale[:limit]
        ]

    async def get_for_update_skip_locked(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return await self.get(client_id, agent_id)

    async def get_for_update_bounded(self, client_id: ClientId, agent_id: str, *, wait_seconds: int) -> Agent | None:
        return await self.get(client_id, agent_id)

    async def agents_needing_coordination(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        found = sorted(
            a.agent_id
            for a in self.store.agents.values()
            if not a.is_deleted and _needs_coordination(self.store, a) and (after is None or a.agent_id > after)
        )
        return [AgentRef(client_id=self.store.agents[a].client_id, agent_id=a) for a in found[:limit]]

    async def list_evaluable_agents(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        found = sorted(
            (
                a
                for a in self.store.agents.values()
                if _evaluable(self.store, a) and (after is None or a.agent_id > after)
            ),
            key=lambda a: a.agent_id,
        )
        return [AgentRef(client_id=a.client_id, agent_id=a.agent_id) for a in found[:limit]]


def _needs_coordination(store: InMemoryStore, agent: Agent) -> bool:
    """Replica coordinator inputs (§7.2), as ``agents_needing_coordination`` selects them."""
    return (
        agent.manual_replica_enabled
        or any(r.agent_id == agent.agent_id and r.status in NON_TERMINAL_REPLICA for r in store.replicas.values())
        or any(e.agent_id == agent.agent_id and e.state in OPEN_EPISODE for e in store.episodes.values())
        or any(
            i.agent_id == agent.agent_id and i.kept_reason is KeptReason.AWAITING_TERMINATION
            for i in store.instances.values()
            if i.role is InstanceRole.KEPT_OLD
        )
    )


class InMemoryInstanceRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def get(self, client_id: ClientId, instance_id: str) -> Instance | None:
        return self.store.instances.get((client_id, instance_id))

    async def list_for_agent(self, agent_id: AgentId) -> Sequence[Instance]:
        found = [i for i in self.store.instances.values() if i.agent_id == agent_id]
        return sorted(found, key=lambda i: i.first_seen_at)

    async def add(self, instance: Instance) -> None:
        self.store.instances[(instance.client_id, instance.instance_id)] = instance


class InMemorySightingRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def get(self, client_id: ClientId, instance_id: str) -> UnattachedSighting | None:
        return self.store.sightings.get((client_id, instance_id))

    async def add(self, sighting: UnattachedSighting) -> None:
        self.store.sightings[(sighting.client_id, sighting.instance_id)] = sighting

    async def delete(self, sighting: UnattachedSighting) -> None:
        self.store.sightings.pop((sighting.client_id, sighting.instance_id), None)


class InMemoryCommandRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def get(self, agent_id: AgentId, command_id: str) -> Command | None:
        command = self.store.commands.get(command_id)
        return command if command is not None and command.agent_id == agent_id else None

    async def list_for_agent(self, agent_id: AgentId, *, since: datetime | None = None) -> Sequence[Command]:
        found = [
            c
            for c in self.store.commands.values()
            if c.agent_id == agent_id
            and (
                c.status not in TERMINAL_COMMAND
                or (since is not None and c.completed_at is not None and c.completed_at >= since)
            )
        ]
        return sorted(found, key=lambda c: (c.created_at, c.command_id))

    async def find_by_idempotency_key(self, agent_id: AgentId, key: str) -> Command | None:
        return next(
            (c for c in self.store.commands.values() if c.agent_id == agent_id and c.idempotency_key == key), None
        )

    async def add(self, command: Command) -> None:
        self.store.commands[command.command_id] = command

    async def switch_activity(self, agent_id: AgentId, since: datetime) -> SwitchActivity:
        switches = [c for c in self.store.commands.values() if c.agent_id == agent_id and c.type is CommandType.SWITCH]
        delivered = sorted(
            c.delivered_at
            for c in switches
            if c.origin is not CommandOrigin.EMERGENCY
            and c.status is not CommandStatus.FAILED
            and c.delivered_at is not None
            and c.delivered_at >= since
        )
        finished = [
            c.completed_at
            for c in switches
            if c.status in (CommandStatus.COMPLETED, CommandStatus.FAILED) and c.completed_at is not None
        ]
        return SwitchActivity(delivered_at=tuple(delivered), last_finished_at=max(finished, default=None))

    async def agents_with_live_commands(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        live = ((c.client_id, c.agent_id) for c in self.store.commands.values() if c.status not in TERMINAL_COMMAND)
        return agent_refs_after(live, limit, after)


class InMemoryReplicaRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def get(self, agent_id: AgentId, replica_id: str) -> Replica | None:
        replica = self.store.replicas.get(replica_id)
        return replica if replica is not None and replica.agent_id == agent_id else None

    async def list_for_agent(self, agent_id: AgentId, *, include_terminal: bool = False) -> Sequence[Replica]:
        found = [
            r
            for r in self.store.replicas.values()
            if r.agent_id == agent_id and (include_terminal or r.status in NON_TERMINAL_REPLICA)
        ]
        return sorted(found, key=lambda r: (r.created_at, r.replica_id))

    async def find_by_instance(self, agent_id: AgentId, instance_id: str) -> Replica | None:
        return next(
            (r for r in self.store.replicas.values() if r.agent_id == agent_id and r.instance_id == instance_id), None
        )

    async def page_for_agent(
        self, agent_id: AgentId, statuses: Collection[ReplicaStatus], *, limit: int, offset: int
    ) -> tuple[Sequence[Replica], int]:
        found = [r for r in self.store.replicas.values() if r.agent_id == agent_id and r.status in statuses]
        found.sort(key=lambda r: r.replica_id)
        found.sort(key=lambda r: r.created_at, reverse=True)
        return found[offset : offset + limit], len(found)

    async def add(self, replica: Replica) -> None:
        self.store.replicas[replica.replica_id] = replica


class InMemoryEpisodeRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def get(self, episode_id: EpisodeId) -> InterruptionEpisode | None:
        return self.store.episodes.get(episode_id)

    async def find_open(self, agent_id: AgentId, instance_id: str | None = None) -> Sequence[InterruptionEpisode]:
        found = [
            e
            for e in self.store.episodes.values()
            if e.agent_id == agent_id
            and e.state in OPEN_EPISODE
            and (instance_id is None or e.instance_id == instance_id)
        ]
        return sorted(found, key=lambda e: e.opened_at)

    async def latest_for_instance(self, agent_id: AgentId, instance_id: str) -> InterruptionEpisode | None:
        found = [e for e in self.store.episodes.values() if e.agent_id == agent_id and e.instance_id == instance_id]
        return max(found, key=lambda e: (e.opened_at, e.episode_id), default=None)

    async def add(self, episode: InterruptionEpisode) -> None:
        self.store.episodes[episode.episode_id] = episode


class InMemorySignalRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def add(self, signal: InterruptionSignal) -> None:
        self.store.signals.append(signal)

    async def fleet_stats(self, pool_ids: Sequence[str], now: datetime) -> dict[str, PoolStats]:
        return {
            pool_id: _pool_stats([s for s in self.store.signals if s.pool_id == pool_id], now)
            for pool_id in dict.fromkeys(pool_ids)
            if any(s.pool_id == pool_id and now - timedelta(days=30) < s.received_at <= now for s in self.store.signals)
        }


class InMemorySwitchRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def find_by_new_instance(self, agent_id: AgentId, new_instance_id: str) -> Switch | None:
        return next(
            (
                s
                for s in self.store.switches.values()
                if s.agent_id == agent_id and s.new.instance_id == new_instance_id
            ),
            None,
        )

    async def exists_for_command(self, command_id: CommandId) -> bool:
        return any(s.command_id == command_id for s in self.store.switches.values())

    async def add(self, switch: Switch) -> None:
        self.store.switches[switch.switch_id] = switch


class InMemoryCleanupRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def find_by_reported_at(self, agent_id: AgentId, reported_at: datetime) -> CleanupRecord | None:
        return next(
            (r for r in self.store.cleanups.values() if r.agent_id == agent_id and r.reported_at == reported_at), None
        )

    async def add(self, record: CleanupRecord) -> None:
        self.store.cleanups[record.record_id] = record


class InMemoryPricingRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def add_report(self, report: PricingReport) -> None:
        self.store.reports.append(report)

    async def add_submissions(self, submissions: Sequence[PricingSubmission]) -> int:
        new = 0
        for s in submissions:
            if s.submission_id not in self.store.submissions:
                self.store.submissions[s.submission_id] = s
                new += 1
        return new

    async def get_pool(self, pool_id: str) -> SpotPool | None:
        return self.store.pools.get(pool_id)

    async def add_pool(self, pool: SpotPool) -> None:
        self.store.pools[pool.pool_id] = pool

    async def list_pools(self, instance_type: str, region: str) -> Sequence[SpotPool]:
        found = [p for p in self.store.pools.values() if p.instance_type == instance_type and p.region == region]
        return sorted(found, key=lambda p: p.pool_id)

    async def get_ondemand(self, instance_type: str, region: str) -> OnDemandPrice | None:
        return self.store.ondemand.get((instance_type, region))

    async def add_ondemand(self, price: OnDemandPrice) -> None:
        self.store.ondemand[(price.instance_type, price.region)] = price

    async def ensure_ondemand(self, initial: OnDemandPrice) -> OnDemandPrice:
        return self.store.ondemand.setdefault((initial.instance_type, initial.region), initial)

    async def add_ondemand_observation(self, observation: OnDemandObservation) -> None:
        self.store.ondemand_observations.append(observation)

    async def record_pool_sightings(self, pools: Sequence[SpotPool], seen_at: datetime) -> None:
        for pool in pools:
            known = self.store.pools.get(pool.pool_id)
            if known is None:
                self.store.pools[pool.pool_id] = dataclasses.replace(pool)
            else:
                known.last_seen_at = max(known.last_seen_at, seen_at)

    async def pools_seen_since(self, since: datetime) -> Sequence[SpotPool]:
        found = [dataclasses.replace(p) for p in self.store.pools.values() if p.last_seen_at >= since]
        return sorted(found, key=lambda p: p.pool_id)

    async def unprocessed_valid_submissions(
        self, limit: int, *, received_since: datetime | None = None
    ) -> Sequence[PricingSubmission]:
        pending = [
            dataclasses.replace(s, validation_flags=list(s.validation_flags))
            for s in self.store.submissions.values()
            if s.processed_at is None
            and s.is_valid
            and s.spot_price is not None
            and (received_since is None or s.received_at >= received_since)
        ]
        return sorted(pending, key=lambda s: (s.received_at, s.submission_id))[:limit]

    async def mark_processed(self, submissions: Sequence[PricingSubmission]) -> None:
        for s in submissions:
            stored = self.store.submissions[s.submission_id]
            stored.processed_at, stored.outcome = s.processed_at, s.outcome

    async def current_ondemand(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], OnDemandPrice]:
        return {p: dataclasses.replace(self.store.ondemand[p]) for p in set(pairs) if p in self.store.ondemand}

    async def valid_ondemand_history(
        self, instance_type: str, region: str, start: datetime, end: datetime
    ) -> Sequence[OnDemandObservation]:
        valid = sorted(
            (
                o
                for o in self.store.ondemand_observations
                if o.instance_type == instance_type and o.region == region and o.is_valid
            ),
            key=lambda o: o.observed_at,
        )
        before = [o for o in valid if o.observed_at < start][-1:]
        return [*before, *(o for o in valid if start <= o.observed_at <= end)]

    async def recorded_event_keys(self, event_type: str, dedup_keys: Sequence[str], since: datetime) -> set[str]:
        wanted = set(dedup_keys)
        return {
            str(e.metadata["dedup_key"])
            for e in self.store.events
            if e.type == event_type and e.created_at >= since and e.metadata.get("dedup_key") in wanted
        }


class InMemoryEventRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def add_event(self, event: SystemEvent) -> None:
        self.store.events.append(event)

    async def add_notification(self, notification: Notification) -> bool:
        key = (notification.client_id, notification.dedup_key)
        if key in self.store.notifications:
            return False
        self.store.notifications[key] = notification
        return True

    async def notification_exists(self, client_id: ClientId, dedup_key: str) -> bool:
        return (client_id, dedup_key) in self.store.notifications


class InMemoryLedgerRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def open_entry(self, client_id: ClientId, instance_id: str) -> LedgerEntry | None:
        return next(
            (
                e
                for e in self.store.ledger.values()
                if e.client_id == client_id and e.instance_id == instance_id and e.ended_at is None
            ),
            None,
        )

    async def save(self, entries: Sequence[LedgerEntry]) -> None:
        for entry in entries:
            self.store.ledger[entry.entry_id] = entry

    async def open_entries_for_agent(self, agent_id: AgentId) -> Sequence[LedgerEntry]:
        found = (e for e in self.store.ledger.values() if e.agent_id == agent_id and e.is_open)
        return sorted(found, key=lambda e: e.instance_id)

    async def agents_with_open_entries(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        return agent_refs_after(
            ((e.client_id, e.agent_id) for e in self.store.ledger.values() if e.is_open), limit, after
        )

    async def entries_for_day(self, client_id: ClientId, day: date) -> Sequence[LedgerEntry]:
        start, end = day_start(day), day_end(day)
        found = [
            e
            for e in self.store.ledger.values()
            if e.client_id == client_id and e.started_at < end and (e.is_open or e.started_at >= start)
        ]
        return sorted(found, key=lambda e: (e.started_at, e.entry_id))

    def entries_of(self, instance_id: str) -> list[LedgerEntry]:
        return sorted(
            (e for e in self.store.ledger.values() if e.instance_id == instance_id), key=lambda e: e.started_at
        )


class InMemoryPriceBucketRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def latest(self, pool_ids: Sequence[str], at: datetime) -> dict[str, CleanPriceBucket]:
        found: dict[str, CleanPriceBucket] = {}
        for (pool_id, start), bucket in self.store.buckets.items():
            if pool_id in pool_ids and start <= at and (pool_id not in found or found[pool_id].bucket_start < start):
                found[pool_id] = bucket
        return found

    def put(self, bucket: CleanPriceBucket) -> None:
        self.store.buckets[(bucket.pool_id, bucket.bucket_start)] = bucket

    # Bulk methods hand out copies, as the SQL adapter hands out detached entities.

    async def get_many(self, keys: Sequence[BucketKey]) -> dict[BucketKey, CleanPriceBucket]:
        return {k: dataclasses.replace(self.store.buckets[k]) for k in set(keys) if k in self.store.buckets}

    async def in_window(self, pool_ids: Sequence[str], start: datetime, end: datetime) -> Sequence[CleanPriceBucket]:
        wanted = set(pool_ids)
        found = [
            dataclasses.replace(b)
            for (pool_id, bucket_start), b in self.store.buckets.items()
            if pool_id in wanted and start <= bucket_start < end
        ]
        return sorted(found, key=lambda b: b.key)

    async def of_fills(self, fill_ids: Sequence[str]) -> Sequence[CleanPriceBucket]:
        wanted = set(fill_ids)
        return [dataclasses.replace(b) for b in self.store.buckets.values() if b.fill_id in wanted]

    async def save(self, buckets: Sequence[CleanPriceBucket]) -> None:
        for bucket in buckets:
            self.store.buckets[bucket.key] = dataclasses.replace(bucket)

    async def insert_new(self, buckets: Sequence[CleanPriceBucket]) -> set[BucketKey]:
        inserted: set[BucketKey] = set()
        for bucket in buckets:
            if bucket.key not in self.store.buckets:
                self.store.buckets[bucket.key] = dataclasses.replace(bucket)
                inserted.add(bucket.key)
        return inserted

    async def delete(self, buckets: Sequence[CleanPriceBucket]) -> None:
        for bucket in buckets:
            self.store.buckets.pop(bucket.key, None)

    async def records_of_fills(self, fill_ids: Sequence[str]) -> Sequence[InterpolationRecord]:
        wanted = set(fill_ids)
        return [dataclasses.replace(r) for r in self.store.interpolation_records.values() if r.fill_id in wanted]

    async def save_records(self, records: Sequence[InterpolationRecord]) -> None:
        for record in records:
            self.store.interpolation_records[record.record_id] = dataclasses.replace(record)


def agent_refs_after(pairs: Iterable[tuple[ClientId, AgentId]], limit: int, after: AgentId | None) -> list[AgentRef]:
    """Distinct agents by agent id after ``after`` (keyset), at most ``limit``."""
    agents = dict(sorted((agent_id, client_id) for client_id, agent_id in pairs if after is None or agent_id > after))
    return [AgentRef(client_id=client_id, agent_id=agent_id) for agent_id, client_id in list(agents.items())[:limit]]


class InMemorySnapshotRepository:
    """Snapshots keyed like the tables (a second ``add_*`` of one key is a conflict); counts read the store."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def list_daily(self, client_id: ClientId, first: date, last: date) -> Sequence[SavingsDailySnapshot]:
        found = (s for (c, d), s in self.store.daily_snapshots.items() if c == client_id and first <= d <= last)
        return sorted(found, key=lambda s: s.day)

    async def add_daily(self, snapshot: SavingsDailySnapshot) -> None:
        _insert_once(self.store.daily_snapshots, (snapshot.client_id, snapshot.day), snapshot)

    async def get_monthly(self, client_id: ClientId, year: int, month: int) -> SavingsMonthlySnapshot | None:
        return self.store.monthly_snapshots.get((client_id, year, month))

    async def add_monthly(self, snapshot: SavingsMonthlySnapshot) -> None:
        _insert_once(self.store.monthly_snapshots, snapshot.key, snapshot)

    async def list_growth(self, first: date, last: date) -> Sequence[ClientGrowthSnapshot]:
        return sorted((s for d, s in self.store.growth_snapshots.items() if first <= d <= last), key=lambda s: s.day)

    async def add_growth(self, snapshot: ClientGrowthSnapshot) -> None:
        _insert_once(self.store.growth_snapshots, snapshot.day, snapshot)

    async def client_lifetimes(self, limit: int, *, after: ClientId | None = None) -> Sequence[ClientLifetime]:
        clients = sorted(
            (c for c in self.store.clients.values() if after is None or c.client_id > after), key=lambda c: c.client_id
        )
        return [ClientLifetime(c.client_id, c.created_at, c.deleted_at) for c in clients[:limit]]

    async def count_switches(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        return sum(1 for s in self.store.switches.values() if s.client_id == client_id and start <= s.received_at < end)

    async def count_failovers(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        return sum(
            1
            for e in self.store.episodes.values()
            if e.client_id == client_id
            and e.state is EpisodeState.FAILED_OVER
            and e.closed_at is not None
            and start <= e.closed_at < end
        )

    async def count_clients(self, *, existing_at: datetime) -> int:
        return sum(
            1
            for c in self.store.clients.values()
            if c.created_at < existing_at and (c.deleted_at is None or c.deleted_at >= existing_at)
        )

    async def count_new_clients(self, start: datetime, end: datetime) -> int:
        return sum(1 for c in self.store.clients.values() if start <= c.created_at < end)

    async def count_active_clients(self) -> int:
        return sum(1 for c in self.store.clients.values() if c.status is ClientStatus.ACTIVE)

    async def first_client_created_at(self) -> datetime | None:
        return min((c.created_at for c in self.store.clients.values()), default=None)


K = TypeVar("K")
V = TypeVar("V")


def _insert_once(rows: dict[K, V], key: K, row: V) -> None:
    if key in rows:
        raise ConflictError("The change conflicts with existing data", code="conflict")
    rows[key] = row


class InMemoryRetentionStore:
    """``RetentionStore`` over the shared store with the SQL adapter's guards (§7.3); ``calls`` records purges."""

    def __init__(self, store: InMemoryStore, job_runs: InMemoryJobRuns | None = None) -> None:
        self.store = store
        self.job_runs = job_runs or InMemoryJobRuns()
        self.calls: list[tuple[RetentionRule, datetime, int]] = []

    async def purge(self, rule: RetentionRule, cutoff: datetime, limit: int) -> int:
        self.calls.append((rule, cutoff, limit))
        rows, expired = self._rules(cutoff)[rule]
        if isinstance(rows, list):
            doomed = [i for i, row in enumerate(rows) if expired(row)][:limit]
            for i in reversed(doomed):
                del rows[i]
            return len(doomed)
        keys = [key for key, row in rows.items() if expired(row)][:limit]
        for key in keys:
            del rows[key]
        return len(keys)

    def _rules(self, cutoff: datetime) -> dict[RetentionRule, tuple[Any, Callable[[Any], bool]]]:
        s = self.store
        final_days = {key for key, snapshot in s.daily_snapshots.items() if snapshot.final}
        priced_pools = {pool_id for pool_id, _ in s.buckets}
        ended = {
            ReplicaStatus.PROMOTED: "promoted_at",
            ReplicaStatus.TERMINATED: "terminated_at",
            ReplicaStatus.FAILED: "failed_at",
        }

        def before(value: datetime | None) -> bool:
            return value is not None and value < cutoff

        return {
            RetentionRule.PRICING_REPORTS: (s.reports, lambda r: before(r.received_at)),
            RetentionRule.PRICING_SUBMISSIONS: (s.submissions, lambda r: before(r.received_at)),
            RetentionRule.PRICE_BUCKETS: (s.buckets, lambda b: before(b.bucket_start)),
            RetentionRule.INTERPOLATION_RECORDS: (s.interpolation_records, lambda r: before(r.created_at)),
            RetentionRule.ONDEMAND_OBSERVATIONS: (s.ondemand_observations, lambda o: before(o.observed_at)),
            RetentionRule.SPOT_POOLS: (s.pools, lambda p: before(p.last_seen_at) and p.pool_id not in priced_pools),
            RetentionRule.TERMINAL_COMMANDS: (
                s.commands,
                lambda c: c.status in TERMINAL_COMMAND and before(c.completed_at or c.cancelled_at),
            ),
            RetentionRule.SWITCHES: (s.switches, lambda w: before(w.received_at)),
            RetentionRule.DECISIONS: (s.decisions, lambda d: before(d.evaluated_at)),
            RetentionRule.INTERRUPTION_SIGNALS: (s.signals, lambda g: before(g.received_at)),
            RetentionRule.CLOSED_EPISODES: (s.episodes, lambda e: e.state not in OPEN_EPISODE and before(e.closed_at)),
            RetentionRule.TERMINAL_REPLICAS: (
                s.replicas,
                lambda r: r.status in ended and before(getattr(r, ended[r.status])),
            ),
            RetentionRule.TERMINATED_INSTANCES: (
                s.instances,
                lambda i: i.role is InstanceRole.TERMINATED and before(i.terminated_at),
            ),
            RetentionRule.UNATTACHED_SIGHTINGS: (s.sightings, lambda w: before(w.last_seen_at)),
            RetentionRule.CLOSED_LEDGER_ENTRIES: (
                s.ledger,
                lambda e: before(e.ended_at) and (e.client_id, e.started_at.date()) in final_days,
            ),
            RetentionRule.DAILY_SAVINGS: (s.daily_snapshots, lambda d: d.day < cutoff.date()),
            RetentionRule.READ_NOTIFICATIONS: (s.notifications, lambda n: n.is_read and before(n.created_at)),
            RetentionRule.UNREAD_NOTIFICATIONS: (s.notifications, lambda n: not n.is_read and before(n.created_at)),
            RetentionRule.INFO_WARNING_EVENTS: (
                s.events,
                lambda e: e.severity in (Severity.INFO, Severity.WARNING) and before(e.created_at),
            ),
            RetentionRule.ERROR_CRITICAL_EVENTS: (
                s.events,
                lambda e: e.severity in (Severity.ERROR, Severity.CRITICAL) and before(e.created_at),
            ),
            RetentionRule.CLEANUP_RECORDS: (s.cleanups, lambda r: before(r.received_at)),
            RetentionRule.JOB_RUNS: (self.job_runs.rows, lambda r: before(r.tick)),
        }


class InMemoryUnitOfWork:
    """Repositories over one shared store; ``commits`` counts commits for assertions."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()
        self.commits = 0
        self.rollbacks = 0
        self.clients = InMemoryClientRepository(self.store)
        self.admin_tokens = InMemoryAdminTokenRepository(self.store)
        self.agents = InMemoryAgentRepository(self.store)
        self.instances = InMemoryInstanceRepository(self.store)
        self.sightings = InMemorySightingRepository(self.store)
        self.commands = InMemoryCommandRepository(self.store)
        self.replicas = InMemoryReplicaRepository(self.store)
        self.episodes = InMemoryEpisodeRepository(self.store)
        self.signals = InMemorySignalRepository(self.store)
        self.switches = InMemorySwitchRepository(self.store)
        self.cleanups = InMemoryCleanupRepository(self.store)
        self.pricing = InMemoryPricingRepository(self.store)
        self.events = InMemoryEventRepository(self.store)
        self.ledger = InMemoryLedgerRepository(self.store)
        self.snapshots = InMemorySnapshotRepository(self.store)
        self.buckets = InMemoryPriceBucketRepository(self.store)
        self.decisions = InMemoryDecisionRepository(self.store)

    @property
    def committed(self) -> bool:
        return self.commits > 0

    async def commit(self) -> None:
        self.commits += 1

    async def rollback(self) -> None:
        self.rollbacks += 1

    async def flush(self) -> None:
        return None

    def event_types(self) -> list[str]:
        return [e.type for e in self.store.events]


class InMemoryJobRuns:
    """Job-run rows keyed by ``(job, tick)`` (JB-1, JB-4)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, datetime], JobRun] = {}

    async def claim(self, job: str, tick: datetime, now: datetime) -> bool:
        if (job, tick) in self.rows:
            return False
        self.rows[(job, tick)] = JobRun(job=job, tick=tick, status=RunStatus.RUNNING, started_at=now)
        return True

    async def reclaim(self, job: str, tick: datetime, now: datetime, *, stale_before: datetime) -> bool:
        row = self.rows.get((job, tick))
        if row is None:
            return False
        stale = row.status is RunStatus.RUNNING and row.started_at < stale_before
        if row.status is not RunStatus.ERROR and not stale:
            return False
        self.rows[(job, tick)] = JobRun(job=job, tick=tick, status=RunStatus.RUNNING, started_at=now)
        return True

    async def finish(
        self, job: str, tick: datetime, *, status: str, now: datetime, duration_ms: int, summary: Mapping[str, object]
    ) -> None:
        row = self.rows[(job, tick)]
        self.rows[(job, tick)] = JobRun(
            job=job,
            tick=tick,
            status=RunStatus(status),
            started_at=row.started_at,
            finished_at=now,
            duration_ms=duration_ms,
            summary=dict(summary),
        )

    async def last_runs(self) -> Sequence[JobRun]:
        newest: dict[str, JobRun] = {}
        for run in self.rows.values():
            if run.job not in newest or newest[run.job].tick < run.tick:
                newest[run.job] = run
        return sorted(newest.values(), key=lambda r: r.job)


class InMemoryDecisionRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def add(self, decision: Decision) -> None:
        assert decision.decision_id is not None, "a stored decision needs its id"
        self.store.decisions[decision.decision_id] = decision

    async def get(self, decision_id: str) -> Decision | None:
        return self.store.decisions.get(decision_id)

    async def latest_for_agent(self, agent_id: AgentId, *, trigger: Trigger | None = None) -> Decision | None:
        found = [
            d
            for d in self.store.decisions.values()
            if d.agent_id == agent_id and (trigger is None or d.trigger is trigger)
        ]
        return max(found, key=lambda d: (d.evaluated_at, d.decision_id or ""), default=None)


def _evaluable(store: InMemoryStore, agent: Agent) -> bool:
    """§7.2 evaluator inputs."""
    open_episode = any(e.agent_id == agent.agent_id and e.state in OPEN_EPISODE for e in store.episodes.values())
    live_switch = any(
        c.agent_id == agent.agent_id
        and c.type is CommandType.SWITCH
        and c.status in (CommandStatus.PENDING, CommandStatus.DELIVERED)
        for c in store.commands.values()
    )
    flags = agent.enabled and agent.auto_switch_enabled and agent.liveness is Liveness.ONLINE
    return agent.lifecycle is Lifecycle.ACTIVE and flags and not open_episode and not live_switch


def _pool_stats(signals: Sequence[InterruptionSignal], now: datetime) -> PoolStats:
    """EP-8: distinct instances (the agent stands in for a signal naming none) per kind and window."""

    def count(kind: SignalKind, window: timedelta) -> int:
        return len(
            {s.instance_id or s.agent_id for s in signals if s.kind is kind and now - window < s.received_at <= now}
        )

    notices = [
        s.received_at
        for s in signals
        if s.kind is SignalKind.TERMINATION and now - timedelta(days=30) < s.received_at <= now
    ]
    day, week = timedelta(hours=24), timedelta(days=7)
    return PoolStats(
        t24=count(SignalKind.TERMINATION, day),
        t7=count(SignalKind.TERMINATION, week),
        t30=count(SignalKind.TERMINATION, timedelta(days=30)),
        r24=count(SignalKind.REBALANCE, day),
        r7=count(SignalKind.REBALANCE, week),
        last_notice_at=max(notices, default=None),
    )


class RecordingJobQueue:
    """``JobQueue`` that records what was enqueued (job name and arguments) instead of queueing it."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, dict[str, object]]] = []

    async def run_health_monitor(self, tick: datetime) -> bool:
        self.enqueued.append(("monitor_agent_health", {"tick": tick}))
        return True
