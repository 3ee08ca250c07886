"""Ports the use cases need. Adapters implement them; tests use the in-memory fakes in tests/fakes.py.

Repositories never commit. They return domain entities; changes made to an entity returned by a repository
(or passed to ``add``) are written when the unit of work commits. Reads named ``*_for_update`` lock the row
(``SELECT … FOR UPDATE``) on databases that support it, in the CC-2 lock order the caller follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

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
from spotopt.domain.values import AgentId, ClientId, CommandId, EpisodeId, InstanceId, ReplicaId


class Clock(Protocol):
    """The authoritative server clock (C-2): aware UTC datetimes."""

    def now(self) -> datetime: ...


class TokenHasher(Protocol):
    """Issues and hashes bearer tokens (CL-1): tokens are never stored in clear."""

    def issue_client_token(self) -> str: ...

    def issue_admin_token(self) -> str: ...

    def hash(self, token: str) -> str: ...


class ClientRepository(Protocol):
    async def get(self, client_id: ClientId) -> Client | None: ...

    async def get_for_update(self, client_id: ClientId) -> Client | None: ...

    async def get_by_token_hash(self, token_hash: str) -> Client | None: ...

    async def find_by_name(self, name: str) -> Client | None:
        """Case-insensitive name lookup."""
        ...

    async def find_by_email(self, email: str) -> Client | None: ...

    async def add(self, client: Client) -> None: ...


class AdminTokenRepository(Protocol):
    async def exists(self, token_hash: str) -> bool: ...

    async def add(self, token_hash: str, token_hint: str, created_at: datetime) -> None: ...


class AgentRepository(Protocol):
    async def get(self, client_id: ClientId, agent_id: str) -> Agent | None:
        """A non-deleted agent of the client, or None (AG-2, CL-4)."""
        ...

    async def get_for_update(self, client_id: ClientId, agent_id: str) -> Agent | None:
        """As ``get``, locking the agent row (CC-3)."""
        ...

    async def find_active_by_logical_id(
        self, client_id: ClientId, logical_agent_id: str, *, for_update: bool = False
    ) -> Agent | None: ...

    async def count_active(self, client_id: ClientId) -> int: ...

    async def add(self, agent: Agent) -> None: ...


class InstanceRepository(Protocol):
    async def get(self, client_id: ClientId, instance_id: str) -> Instance | None: ...

    async def list_for_agent(self, agent_id: AgentId) -> Sequence[Instance]: ...

    async def add(self, instance: Instance) -> None: ...


class SightingRepository(Protocol):
    async def get(self, client_id: ClientId, instance_id: str) -> UnattachedSighting | None: ...

    async def add(self, sighting: UnattachedSighting) -> None: ...

    async def delete(self, sighting: UnattachedSighting) -> None: ...


class CommandRepository(Protocol):
    async def get(self, agent_id: AgentId, command_id: str) -> Command | None: ...

    async def list_for_agent(self, agent_id: AgentId, *, since: datetime | None = None) -> Sequence[Command]:
        """Non-terminal commands plus terminal ones finished at or after ``since``."""
        ...

    async def find_by_idempotency_key(self, agent_id: AgentId, key: str) -> Command | None: ...

    async def add(self, command: Command) -> None: ...


class ReplicaRepository(Protocol):
    async def get(self, agent_id: AgentId, replica_id: str) -> Replica | None: ...

    async def list_for_agent(self, agent_id: AgentId, *, include_terminal: bool = False) -> Sequence[Replica]: ...

    async def find_by_instance(self, agent_id: AgentId, instance_id: str) -> Replica | None: ...

    async def add(self, replica: Replica) -> None: ...


class EpisodeRepository(Protocol):
    async def get(self, episode_id: EpisodeId) -> InterruptionEpisode | None: ...

    async def find_open(self, agent_id: AgentId, instance_id: str | None = None) -> Sequence[InterruptionEpisode]: ...

    async def latest_for_instance(self, agent_id: AgentId, instance_id: str) -> InterruptionEpisode | None: ...

    async def add(self, episode: InterruptionEpisode) -> None: ...


class SignalRepository(Protocol):
    async def add(self, signal: InterruptionSignal) -> None: ...


class SwitchRepository(Protocol):
    async def find_by_new_instance(self, agent_id: AgentId, new_instance_id: str) -> Switch | None: ...

    async def exists_for_command(self, command_id: CommandId) -> bool: ...

    async def add(self, switch: Switch) -> None: ...


class CleanupRepository(Protocol):
    async def find_by_reported_at(self, agent_id: AgentId, reported_at: datetime) -> CleanupRecord | None: ...

    async def add(self, record: CleanupRecord) -> None: ...


class PricingRepository(Protocol):
    """Pricing ingestion store. ``add_submissions`` ignores ids already stored (MD-1, CC-7)."""

    async def add_report(self, report: PricingReport) -> None: ...

    async def add_submissions(self, submissions: Sequence[PricingSubmission]) -> int:
        """Insert new submissions; returns how many were new."""
        ...

    async def get_pool(self, pool_id: str) -> SpotPool | None: ...

    async def add_pool(self, pool: SpotPool) -> None: ...

    async def list_pools(self, instance_type: str, region: str) -> Sequence[SpotPool]: ...

    async def get_ondemand(self, instance_type: str, region: str) -> OnDemandPrice | None: ...

    async def add_ondemand(self, price: OnDemandPrice) -> None: ...

    async def add_ondemand_observation(self, observation: OnDemandObservation) -> None: ...


class EventRepository(Protocol):
    """System events and client notifications (NT-1 … NT-6).

    ``add_notification`` returns False when ``(client_id, dedup_key)`` already exists (NT-4): a repeated cause
    creates no second notification.
    """

    async def add_event(self, event: SystemEvent) -> None: ...

    async def add_notification(self, notification: Notification) -> bool: ...

    async def notification_exists(self, client_id: ClientId, dedup_key: str) -> bool: ...


class LedgerRepository(Protocol):
    """Ledger entries (§5). ``save`` persists entries returned by the domain's ``LedgerChange`` (new or changed)."""

    async def open_entry(self, client_id: ClientId, instance_id: str) -> LedgerEntry | None: ...

    async def save(self, entries: Sequence[LedgerEntry]) -> None: ...


class PriceBucketRepository(Protocol):
    """Clean price buckets (§4.2), fleet-wide."""

    async def latest(self, pool_ids: Sequence[str], at: datetime) -> dict[str, CleanPriceBucket]:
        """Per pool, the latest bucket with ``bucket_start <= at`` (PR-23); pools without one are absent."""
        ...


class UnitOfWork(Protocol):
    """One use case, one transaction (CC-1).

    Repositories share the transaction. ``commit`` writes every change made through them; anything not committed
    is rolled back when the scope closes. ``commit`` raises ``ConflictError`` when a unique key rejects the write
    (CC-7) and ``UnavailableError`` when the database cannot be reached.
    """

    clients: ClientRepository
    admin_tokens: AdminTokenRepository
    agents: AgentRepository
    instances: InstanceRepository
    sightings: SightingRepository
    commands: CommandRepository
    replicas: ReplicaRepository
    episodes: EpisodeRepository
    signals: SignalRepository
    switches: SwitchRepository
    cleanups: CleanupRepository
    pricing: PricingRepository
    events: EventRepository
    ledger: LedgerRepository
    buckets: PriceBucketRepository

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def flush(self) -> None: ...


__all__ = ["AgentId", "ClientId", "CommandId", "EpisodeId", "InstanceId", "ReplicaId"]


class DatabaseProbe(Protocol):
    """A trivial query with a short timeout; never raises."""

    async def ping(self) -> bool: ...


class JobMonitor(Protocol):
    """Background job state for health reports: ``running``, ``stalled`` or ``disabled`` (H1, JB-1); never raises."""

    async def status(self, now: datetime) -> str: ...
