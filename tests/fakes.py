"""In-memory fakes of our ports (house style §13): public state for assertions, no mocks."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from spotopt.domain.agents import Agent
from spotopt.domain.clients import Client
from spotopt.domain.commands import Command
from spotopt.domain.episodes import InterruptionEpisode, InterruptionSignal
from spotopt.domain.events import Notification, SystemEvent
from spotopt.domain.instances import Instance
from spotopt.domain.ledger import LedgerEntry
from spotopt.domain.price_buckets import CleanPriceBucket
from spotopt.domain.pricing import OnDemandObservation, OnDemandPrice, PricingReport, PricingSubmission, SpotPool
from spotopt.domain.replicas import Replica
from spotopt.domain.sightings import UnattachedSighting
from spotopt.domain.switches import CleanupRecord, Switch
from spotopt.domain.values import (
    NON_TERMINAL_REPLICA,
    OPEN_EPISODE,
    TERMINAL_COMMAND,
    AgentId,
    ClientId,
    CommandId,
    EpisodeId,
    Lifecycle,
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
        self.store.agents[agent.agent_id] = agent


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
            if e.agent_id == agent_id and e.state in OPEN_EPISODE and (instance_id is None or e.instance_id == instance_id)
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


class InMemorySwitchRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def find_by_new_instance(self, agent_id: AgentId, new_instance_id: str) -> Switch | None:
        return next(
            (s for s in self.store.switches.values() if s.agent_id == agent_id and s.new.instance_id == new_instance_id),
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

    async def add_ondemand_observation(self, observation: OnDemandObservation) -> None:
        self.store.ondemand_observations.append(observation)


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

    def entries_of(self, instance_id: str) -> list[LedgerEntry]:
        return sorted((e for e in self.store.ledger.values() if e.instance_id == instance_id), key=lambda e: e.started_at)


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
        self.buckets = InMemoryPriceBucketRepository(self.store)

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
