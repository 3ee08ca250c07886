"""Ports the use cases need. Adapters implement them; tests use the in-memory fakes in tests/fakes.py.

Repositories never commit. They return domain entities; changes made to an entity returned by a repository
(or passed to ``add``) are written when the unit of work commits. Reads named ``*_for_update`` lock the row
(``SELECT … FOR UPDATE``) on databases that support it, in the CC-2 lock order the caller follows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from spotopt.application.jobs import JobRun
from spotopt.domain.agents import Agent
from spotopt.domain.clients import Client
from spotopt.domain.commands import Command
from spotopt.domain.decision_guards import DecisionInput, Trigger
from spotopt.domain.decisions import Decision
from spotopt.domain.episodes import InterruptionEpisode, InterruptionSignal
from spotopt.domain.estimation import PoolStats
from spotopt.domain.events import Notification, SystemEvent
from spotopt.domain.gap_filling import InterpolationRecord
from spotopt.domain.instances import Instance
from spotopt.domain.ledger import LedgerEntry
from spotopt.domain.policy import PolicyDocument
from spotopt.domain.price_buckets import BucketKey, CleanPriceBucket
from spotopt.domain.pricing import OnDemandObservation, OnDemandPrice, PricingReport, PricingSubmission, SpotPool
from spotopt.domain.replicas import Replica
from spotopt.domain.retention import RetentionRule
from spotopt.domain.sightings import UnattachedSighting
from spotopt.domain.snapshots import ClientGrowthSnapshot, ClientLifetime, SavingsDailySnapshot, SavingsMonthlySnapshot
from spotopt.domain.switches import CleanupRecord, Switch
from spotopt.domain.values import AgentId, ClientId, CommandId, EpisodeId, ReplicaStatus


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

    async def list_stale_online(self, cutoff: datetime, limit: int) -> Sequence[StaleAgent]:
        """Active, online agents whose last heartbeat is older than ``cutoff`` (A7), oldest first, at most ``limit``.

        Returns the values read, not entities: the caller re-reads each agent under its lock (compare-and-set).
        """
        ...

    async def get_for_update_skip_locked(self, client_id: ClientId, agent_id: str) -> Agent | None:
        """As ``get_for_update``, but None when another transaction holds the row (``SKIP LOCKED``, CC-4)."""
        ...

    async def get_for_update_bounded(self, client_id: ClientId, agent_id: str, *, wait_seconds: int) -> Agent | None:
        """As ``get_for_update``, waiting at most ``wait_seconds`` for the row lock (emergency paths, EP-4, pitfall
        11); raises ``LockContentionError`` when the wait runs out (the entrypoint retries, CC-5).
        """
        ...

    async def agents_needing_coordination(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        """Replica coordinator inputs (§7.2): active agents in manual-replica mode, or with an open episode, a
        non-terminal replica or a kept-old instance awaiting termination; by agent id after ``after``, at most
        ``limit``. References only: the coordinator re-reads each agent under its lock (CC-4).
        """
        ...

    async def list_evaluable_agents(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        """Auto-switch evaluator inputs (§7.2): active, enabled, auto-switching, online agents without an open
        episode and without a pending or delivered switch; by agent id, after ``after`` (keyset), at most ``limit``.

        Returns references only: the evaluator re-checks every guard under the agent lock (CM-6, CC-4).
        """
        ...


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

    async def switch_activity(self, agent_id: AgentId, since: datetime) -> SwitchActivity:
        """§6.2 counter inputs: ``delivered_at`` of the agent's switch commands with origin ≠ emergency delivered at
        or after ``since`` and not failed (oldest first), and the latest completion or failure of any switch.
        """
        ...

    async def agents_with_live_commands(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        """Command sweeper inputs: agents with a ``pending`` or ``delivered`` command, by agent id after ``after``."""
        ...


class ReplicaRepository(Protocol):
    async def get(self, agent_id: AgentId, replica_id: str) -> Replica | None: ...

    async def list_for_agent(self, agent_id: AgentId, *, include_terminal: bool = False) -> Sequence[Replica]: ...

    async def find_by_instance(self, agent_id: AgentId, instance_id: str) -> Replica | None: ...

    async def page_for_agent(
        self, agent_id: AgentId, statuses: Collection[ReplicaStatus], *, limit: int, offset: int
    ) -> tuple[Sequence[Replica], int]:
        """R2: the agent's replicas in ``statuses``, newest ``created_at`` first (ties by id), one page, and the
        number of matches before paging.
        """
        ...

    async def add(self, replica: Replica) -> None: ...


class EpisodeRepository(Protocol):
    async def get(self, episode_id: EpisodeId) -> InterruptionEpisode | None: ...

    async def find_open(self, agent_id: AgentId, instance_id: str | None = None) -> Sequence[InterruptionEpisode]: ...

    async def latest_for_instance(self, agent_id: AgentId, instance_id: str) -> InterruptionEpisode | None: ...

    async def add(self, episode: InterruptionEpisode) -> None: ...


class SignalRepository(Protocol):
    async def add(self, signal: InterruptionSignal) -> None: ...

    async def fleet_stats(self, pool_ids: Sequence[str], now: datetime) -> dict[str, PoolStats]:
        """§6.2 fleet statistics per pool, fleet-wide and whatever the agents' settings (EP-8, C-6).

        ``t24``/``t7``/``t30`` count distinct instances with a termination notice received in the last 24 h / 7 d /
        30 d (``received_at`` in ``(now - window, now]``), ``r24``/``r7`` the same for rebalance recommendations; a
        signal naming no instance counts as its agent's primary. ``last_notice_at`` is the newest notice within
        30 d. Pools without a signal in 30 d are absent. ``exposure_hours_7d`` is left 0 (ledger, not signals).
        """
        ...


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

    async def ensure_ondemand(self, initial: OnDemandPrice) -> OnDemandPrice:
        """The catalogue row of ``initial``'s (type, region), created from ``initial`` when absent, locked for update.

        Concurrent first observations never conflict or deadlock (CC-7).
        """
        ...

    async def add_ondemand_observation(self, observation: OnDemandObservation) -> None: ...

    async def record_pool_sightings(self, pools: Sequence[SpotPool], seen_at: datetime) -> None:
        """PR-7/PR-32: create the pools not catalogued yet; advance ``last_seen_at`` of the others to ``seen_at``.

        ``last_seen_at`` never moves backwards and ``first_seen_at`` never changes.
        """
        ...

    async def pools_seen_since(self, since: datetime) -> Sequence[SpotPool]:
        """Catalogue entries with ``last_seen_at >= since``, by pool id."""
        ...

    async def unprocessed_valid_submissions(
        self, limit: int, *, received_since: datetime | None = None
    ) -> Sequence[PricingSubmission]:
        """PR-12: valid, priced submissions without ``processed_at``, oldest ``received_at`` first (ties by id).

        At most ``limit``; rows another transaction holds are skipped (``SKIP LOCKED`` where supported). The
        entities are detached: store the fold outcome with ``mark_processed``.
        """
        ...

    async def mark_processed(self, submissions: Sequence[PricingSubmission]) -> None:
        """Store ``processed_at`` and ``outcome`` of folded submissions; nothing else of them ever changes (§7.2)."""
        ...

    async def current_ondemand(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], OnDemandPrice]:
        """The catalogue's current price of each ``(instance_type, region)`` that has one (PR-27); detached."""
        ...

    async def valid_ondemand_history(
        self, instance_type: str, region: str, start: datetime, end: datetime
    ) -> Sequence[OnDemandObservation]:
        """Valid observations with ``start <= observed_at <= end`` plus the latest valid one before ``start``.

        Oldest first: enough to know the catalogue price in effect at any time in the range (PR-14, PR-29).
        """
        ...

    async def recorded_event_keys(self, event_type: str, dedup_keys: Sequence[str], since: datetime) -> set[str]:
        """Those ``dedup_keys`` a system event of ``event_type`` created at or after ``since`` already carries.

        The key is the event's ``metadata["dedup_key"]``: the dedupe of notification-free events (PR-6, PR-13,
        PR-22).
        """
        ...


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

    async def open_entries_for_agent(self, agent_id: AgentId) -> Sequence[LedgerEntry]:
        """The agent's open entries (one per non-terminated instance, IN-8), by instance id."""
        ...

    async def agents_with_open_entries(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        """Ledger accrual inputs: agents with an open entry, by agent id after ``after`` (keyset), at most ``limit``."""
        ...

    async def entries_for_day(self, client_id: ClientId, day: date) -> Sequence[LedgerEntry]:
        """The client's entries of UTC day ``day``: closed ones that started in it and open ones that started
        before its end (the caller values those up to now, LG-4), by start then id.
        """
        ...


class SnapshotRepository(Protocol):
    """Savings and client-growth snapshots (§5.4), plus the counts they take from outside the ledger.

    Snapshots returned are tracked: revise them in place; ``add_*`` stores new ones (one per key).
    """

    async def list_daily(self, client_id: ClientId, first: date, last: date) -> Sequence[SavingsDailySnapshot]:
        """The client's daily snapshots with ``first <= day <= last``, by day."""
        ...

    async def add_daily(self, snapshot: SavingsDailySnapshot) -> None: ...

    async def get_monthly(self, client_id: ClientId, year: int, month: int) -> SavingsMonthlySnapshot | None: ...

    async def add_monthly(self, snapshot: SavingsMonthlySnapshot) -> None: ...

    async def list_growth(self, first: date, last: date) -> Sequence[ClientGrowthSnapshot]:
        """Client-growth snapshots with ``first <= day <= last``, by day."""
        ...

    async def add_growth(self, snapshot: ClientGrowthSnapshot) -> None: ...

    async def client_lifetimes(self, limit: int, *, after: ClientId | None = None) -> Sequence[ClientLifetime]:
        """Every client (inactive ones too) with its creation and deletion time, by client id after ``after``."""
        ...

    async def count_switches(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        """Switch records of the client received in ``[start, end)`` (§5.3 ``switch_count``)."""
        ...

    async def count_failovers(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        """Episodes of the client closed ``failed_over`` in ``[start, end)`` (§5.3 ``failover_count``)."""
        ...

    async def count_clients(self, *, existing_at: datetime) -> int:
        """Clients created before ``existing_at`` and not deleted by then."""
        ...

    async def count_new_clients(self, start: datetime, end: datetime) -> int:
        """Clients created in ``[start, end)``."""
        ...

    async def count_active_clients(self) -> int: ...

    async def first_client_created_at(self) -> datetime | None: ...


class RetentionStore(Protocol):
    """Deletes expired records (§7.3) inside the caller's transaction (the caller commits after every batch).

    ``purge`` deletes at most ``limit`` records of ``rule`` measured before ``cutoff`` in one statement, and never
    a record the rule protects (open or non-terminal records, ledger entries of a day without a final snapshot,
    the current on-demand price). Returns how many it deleted.
    """

    async def purge(self, rule: RetentionRule, cutoff: datetime, limit: int) -> int: ...


class PriceBucketRepository(Protocol):
    """Clean price buckets (§4.2), fleet-wide."""

    async def latest(self, pool_ids: Sequence[str], at: datetime) -> dict[str, CleanPriceBucket]:
        """Per pool, the latest bucket with ``bucket_start <= at`` (PR-23); pools without one are absent."""
        ...

    # The bulk methods below serve the pricing jobs. Their entities are detached: write changes with
    # ``save`` / ``insert_new`` / ``delete`` (no change tracking over thousands of rows).

    async def get_many(self, keys: Sequence[BucketKey]) -> dict[BucketKey, CleanPriceBucket]:
        """The stored buckets among ``keys`` (``(pool_id, bucket_start)``); missing keys are absent."""
        ...

    async def in_window(self, pool_ids: Sequence[str], start: datetime, end: datetime) -> Sequence[CleanPriceBucket]:
        """Buckets of ``pool_ids`` with ``start <= bucket_start < end``, by pool then start."""
        ...

    async def of_fills(self, fill_ids: Sequence[str]) -> Sequence[CleanPriceBucket]:
        """Buckets that carry one of ``fill_ids`` (PR-21)."""
        ...

    async def save(self, buckets: Sequence[CleanPriceBucket]) -> None:
        """Insert or replace each bucket by its key (MD-2): the aggregator's merge result (PR-12)."""
        ...

    async def insert_new(self, buckets: Sequence[CleanPriceBucket]) -> set[BucketKey]:
        """Insert the buckets whose key is free, never touching a stored one (PR-17); returns the keys inserted."""
        ...

    async def delete(self, buckets: Sequence[CleanPriceBucket]) -> None:
        """Remove these buckets (only interpolated ones are ever removed, PR-21)."""
        ...

    async def records_of_fills(self, fill_ids: Sequence[str]) -> Sequence[InterpolationRecord]:
        """Interpolation records of ``fill_ids`` (PR-19, PR-21)."""
        ...

    async def save_records(self, records: Sequence[InterpolationRecord]) -> None:
        """Insert new interpolation records, or store ``superseded_at`` of known ones (PR-19, PR-21)."""
        ...


class UnitOfWork(Protocol):
    """One use case, one transaction (CC-1).

    Repositories share the transaction. ``commit`` writes every change made through them; anything not committed
    is rolled back when the scope closes. ``commit`` raises ``ConflictError`` when a unique key rejects the write
    (CC-7) and ``UnavailableError`` when the database cannot be reached. Repositories are read-only
    attributes (properties), so implementations may expose their own concrete repository types.
    """

    @property
    def clients(self) -> ClientRepository: ...
    @property
    def admin_tokens(self) -> AdminTokenRepository: ...
    @property
    def agents(self) -> AgentRepository: ...
    @property
    def instances(self) -> InstanceRepository: ...
    @property
    def sightings(self) -> SightingRepository: ...
    @property
    def commands(self) -> CommandRepository: ...
    @property
    def replicas(self) -> ReplicaRepository: ...
    @property
    def episodes(self) -> EpisodeRepository: ...
    @property
    def signals(self) -> SignalRepository: ...
    @property
    def switches(self) -> SwitchRepository: ...
    @property
    def cleanups(self) -> CleanupRepository: ...
    @property
    def pricing(self) -> PricingRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def buckets(self) -> PriceBucketRepository: ...
    @property
    def snapshots(self) -> SnapshotRepository: ...
    @property
    def decisions(self) -> DecisionRepository: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def flush(self) -> None: ...


class DatabaseProbe(Protocol):
    """A trivial query with a short timeout; never raises."""

    async def ping(self) -> bool: ...


class JobMonitor(Protocol):
    """Background job state for health reports: ``running``, ``stalled`` or ``disabled`` (H1, JB-1); never raises."""

    async def status(self, now: datetime) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class StaleAgent:
    """An agent the health monitor found stale, with the heartbeat value it read (for compare-and-set, A7)."""

    client_id: ClientId
    agent_id: AgentId
    last_heartbeat_at: datetime


class JobRuns(Protocol):
    """Job-run rows (JB-1, JB-4). Every call is its own short transaction, never the caller's; it commits."""

    async def claim(self, job: str, tick: datetime, now: datetime) -> bool:
        """Insert the ``(job, tick)`` row as running; False when it exists (another worker has this tick, JB-1)."""
        ...

    async def reclaim(self, job: str, tick: datetime, now: datetime, *, stale_before: datetime) -> bool:
        """Take over a row of an earlier attempt of the same run: one that failed, or that is still ``running``
        but started before ``stale_before`` (its worker died). False otherwise.
        """
        ...

    async def finish(
        self, job: str, tick: datetime, *, status: str, now: datetime, duration_ms: int, summary: Mapping[str, object]
    ) -> None:
        """Record the outcome of a claimed run (JB-4)."""
        ...

    async def last_runs(self) -> Sequence[JobRun]:
        """The newest run of every job that has run."""
        ...


class JobQueue(Protocol):
    """Enqueues background jobs, after the caller's commit (CC-8); one method per job kind.

    Never raises: when the queue is unreachable the job is dropped with a warning (scheduled jobs run again on
    their next tick, and H1 reports the workers as stalled). Returns False when nothing was enqueued (dropped, or
    a job with the same key is already waiting).
    """

    async def run_health_monitor(self, tick: datetime) -> bool: ...


class DecisionRepository(Protocol):
    """Stored decisions (DP-14, DP-15); a decision is stored with its ``decision_id`` and never changed."""

    async def add(self, decision: Decision) -> None: ...

    async def get(self, decision_id: str) -> Decision | None: ...

    async def latest_for_agent(self, agent_id: AgentId, *, trigger: Trigger | None = None) -> Decision | None:
        """The agent's newest stored decision (of ``trigger`` when given), by ``evaluated_at`` then id."""
        ...


class DecisionEngine(Protocol):
    """DP-1: the decision policy plus an estimator, for the policy's ``engine_kind``.

    Never raises because of the estimator: a pool the estimator cannot score in time is scored by the rule
    estimator (DP-3, per component and per call). The decision reports ``engine_kind``, the model versions and
    ``fallback_used``. Pure with respect to the database: it reads nothing and writes nothing.
    """

    async def decide(self, inp: DecisionInput, policy: PolicyDocument, now: datetime) -> Decision: ...


class PolicyStore(Protocol):
    """The active decision-policy document (DP-17, DP-18); the built-in default until one is uploaded. Never raises."""

    async def active(self) -> PolicyDocument: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchActivity:
    """Raw §6.2 counter inputs read from the command store (see ``CommandRepository.switch_activity``)."""

    delivered_at: tuple[datetime, ...] = ()
    last_finished_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRef:
    """An agent a background job should visit; the job re-reads it under its lock."""

    client_id: ClientId
    agent_id: AgentId
