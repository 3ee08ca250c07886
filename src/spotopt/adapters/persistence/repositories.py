"""SQLAlchemy implementations of the repository ports (no commits here: the unit of work commits)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, Table, and_, exists, func, insert, or_, select
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence import decision_store, replica_store
from spotopt.adapters.persistence import tables as t
from spotopt.adapters.persistence.failures import is_lock_contention
from spotopt.adapters.persistence.mapper import Tracker, to_row
from spotopt.application.errors import LockContentionError
from spotopt.application.ports.agents import AgentRef, StaleAgent
from spotopt.application.ports.commands import SwitchActivity
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.sighting import UnattachedSighting
from spotopt.domain.agents.values import Lifecycle, Liveness
from spotopt.domain.clients.client import Client
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch import CleanupRecord, Switch
from spotopt.domain.commands.values import TERMINAL_COMMAND
from spotopt.domain.decisions.estimation import PoolStats
from spotopt.domain.interruptions.episode import InterruptionEpisode, InterruptionSignal
from spotopt.domain.interruptions.values import OPEN_EPISODE
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.ledger.snapshots import day_end, day_start
from spotopt.domain.notifications.notification import Notification, SystemEvent
from spotopt.domain.pricing.buckets import CleanPriceBucket
from spotopt.domain.pricing.market import OnDemandObservation, OnDemandPrice, PricingReport, PricingSubmission, SpotPool
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaStatus
from spotopt.domain.shared.ids import AgentId, ClientId, CommandId, EpisodeId

E = TypeVar("E")


async def insert_ignoring_duplicates(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, skipping those whose unique key already exists (CC-7); returns how many were inserted.

    Each row goes in under its own SAVEPOINT, so a duplicate rolls back only itself. (``ON DUPLICATE KEY UPDATE``
    cannot count: MariaDB reports a matched duplicate as one affected row.)
    """
    inserted = 0
    for row in rows:
        try:
            async with session.begin_nested():
                await session.execute(insert(table).values(**row))
        except IntegrityError:
            continue
        except DBAPIError as exc:
            # InnoDB rolls the whole transaction back on a deadlock, so releasing the savepoint then fails (1305)
            # and hides the cause: report the contention so the use case is retried in a fresh transaction (CC-5).
            if is_lock_contention(exc) or (exc.__context__ is not None and is_lock_contention(exc.__context__)):
                raise LockContentionError from exc
            raise
        inserted += 1
    return inserted


def _insert_if_absent(session: AsyncSession, table: Table, row: dict[str, Any]) -> Any:
    """One atomic statement that inserts ``row`` unless its primary key exists (no error, no lock upgrade)."""
    if session.get_bind().dialect.name == "sqlite":
        return sqlite.insert(table).values(**row).on_conflict_do_nothing()
    pk = next(iter(table.primary_key.columns)).name
    stmt = mysql.insert(table).values(**row)
    return stmt.on_duplicate_key_update({pk: stmt.inserted[pk]})


class _Base:
    def __init__(self, session: AsyncSession, tracker: Tracker) -> None:
        self._session = session
        self._tracker = tracker

    async def _one(self, entity: type[E], stmt: Select[Any], *, for_update: bool = False) -> E | None:
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._session.execute(stmt)).mappings().first()
        return None if row is None else self._tracker.load(entity, row, refresh=for_update)

    async def _many(self, entity: type[E], stmt: Select[Any]) -> list[E]:
        rows = (await self._session.execute(stmt)).mappings().all()
        return [self._tracker.load(entity, row) for row in rows]

    def _add(self, entity: object) -> None:
        self._tracker.add(entity)


class SqlAlchemyClientRepository(_Base):
    async def get(self, client_id: ClientId) -> Client | None:
        return await self._one(Client, select(t.clients).where(t.clients.c.client_id == client_id))

    async def get_for_update(self, client_id: ClientId) -> Client | None:
        stmt = select(t.clients).where(t.clients.c.client_id == client_id)
        return await self._one(Client, stmt, for_update=True)

    async def get_by_token_hash(self, token_hash: str) -> Client | None:
        return await self._one(Client, select(t.clients).where(t.clients.c.token_hash == token_hash))

    async def find_by_name(self, name: str) -> Client | None:
        return await self._one(Client, select(t.clients).where(t.clients.c.name_key == name.lower()))

    async def find_by_email(self, email: str) -> Client | None:
        return await self._one(Client, select(t.clients).where(t.clients.c.email == email))

    async def add(self, client: Client) -> None:
        self._add(client)


class SqlAlchemyAdminTokenRepository(_Base):
    async def exists(self, token_hash: str) -> bool:
        stmt = select(exists().where(t.admin_tokens.c.token_hash == token_hash))
        return bool((await self._session.execute(stmt)).scalar())

    async def add(self, token_hash: str, token_hint: str, created_at: datetime) -> None:
        await self._session.execute(
            insert(t.admin_tokens).values(token_hash=token_hash, token_hint=token_hint, created_at=created_at)
        )


class SqlAlchemyAgentRepository(_Base):
    def _visible(self, client_id: ClientId, agent_id: str) -> Select[Any]:
        c = t.agents.c
        return select(t.agents).where(
            c.client_id == client_id, c.agent_id == agent_id, c.lifecycle == Lifecycle.ACTIVE.value
        )

    async def get(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return await self._one(Agent, self._visible(client_id, agent_id))

    async def get_for_update(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return await self._one(Agent, self._visible(client_id, agent_id), for_update=True)

    async def find_active_by_logical_id(
        self, client_id: ClientId, logical_agent_id: str, *, for_update: bool = False
    ) -> Agent | None:
        c = t.agents.c
        stmt = select(t.agents).where(c.client_id == client_id, c.active_logical_key == logical_agent_id)
        return await self._one(Agent, stmt, for_update=for_update)

    async def count_active(self, client_id: ClientId) -> int:
        c = t.agents.c
        stmt = select(func.count()).where(c.client_id == client_id, c.lifecycle == Lifecycle.ACTIVE.value)
        return int((await self._session.execute(stmt)).scalar_one())

    async def add(self, agent: Agent) -> None:
        self._add(agent)

    async def list_stale_online(self, cutoff: datetime, limit: int) -> Sequence[StaleAgent]:
        c = t.agents.c
        stmt = (
            select(c.client_id, c.agent_id, c.last_heartbeat_at)
            .where(
                c.lifecycle == Lifecycle.ACTIVE.value,
                c.liveness == Liveness.ONLINE.value,
                c.last_heartbeat_at < cutoff,
            )
            .order_by(c.last_heartbeat_at, c.agent_id)
            .limit(limit)
        )
        rows = (await self._session.execute(stmt)).all()
        return [
            StaleAgent(
                client_id=ClientId(r.client_id), agent_id=AgentId(r.agent_id), last_heartbeat_at=r.last_heartbeat_at
            )
            for r in rows
        ]

    async def get_for_update_skip_locked(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return await self._one(Agent, self._visible(client_id, agent_id).with_for_update(skip_locked=True))

    async def list_evaluable_agents(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        return await decision_store.evaluable_agents(self._session, limit, after)

    async def get_for_update_bounded(self, client_id: ClientId, agent_id: str, *, wait_seconds: int) -> Agent | None:
        stmt = replica_store.bounded_lock(self._visible(client_id, agent_id), self._session, wait_seconds)
        return await self._one(Agent, stmt)

    async def agents_needing_coordination(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        return await replica_store.agents_needing_coordination(self._session, limit, after)


class SqlAlchemyInstanceRepository(_Base):
    async def get(self, client_id: ClientId, instance_id: str) -> Instance | None:
        c = t.instances.c
        stmt = select(t.instances).where(c.client_id == client_id, c.instance_id == instance_id)
        return await self._one(Instance, stmt)

    async def list_for_agent(self, agent_id: AgentId) -> Sequence[Instance]:
        c = t.instances.c
        return await self._many(Instance, select(t.instances).where(c.agent_id == agent_id).order_by(c.first_seen_at))

    async def add(self, instance: Instance) -> None:
        self._add(instance)


class SqlAlchemySightingRepository(_Base):
    async def get(self, client_id: ClientId, instance_id: str) -> UnattachedSighting | None:
        c = t.sightings.c
        stmt = select(t.sightings).where(c.client_id == client_id, c.instance_id == instance_id)
        return await self._one(UnattachedSighting, stmt)

    async def add(self, sighting: UnattachedSighting) -> None:
        self._add(sighting)

    async def delete(self, sighting: UnattachedSighting) -> None:
        c = t.sightings.c
        self._tracker.forget(sighting)
        await self._session.execute(
            t.sightings.delete().where(c.client_id == sighting.client_id, c.instance_id == sighting.instance_id)
        )


class SqlAlchemyCommandRepository(_Base):
    async def get(self, agent_id: AgentId, command_id: str) -> AgentCommand | None:
        c = t.commands.c
        return await self._one(
            AgentCommand, select(t.commands).where(c.agent_id == agent_id, c.command_id == command_id)
        )

    async def list_for_agent(self, agent_id: AgentId, *, since: datetime | None = None) -> Sequence[AgentCommand]:
        c = t.commands.c
        open_ = c.status.not_in([s.value for s in TERMINAL_COMMAND])
        cond = open_ if since is None else or_(open_, c.completed_at >= since)
        stmt = select(t.commands).where(c.agent_id == agent_id, cond).order_by(c.created_at, c.command_id)
        return await self._many(AgentCommand, stmt)

    async def find_by_idempotency_key(self, agent_id: AgentId, key: str) -> AgentCommand | None:
        c = t.commands.c
        return await self._one(AgentCommand, select(t.commands).where(c.agent_id == agent_id, c.idempotency_key == key))

    async def add(self, command: AgentCommand) -> None:
        self._add(command)

    async def switch_activity(self, agent_id: AgentId, since: datetime) -> SwitchActivity:
        return await decision_store.switch_activity(self._session, agent_id, since)

    async def agents_with_live_commands(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        c = t.commands.c
        stmt = select(c.client_id, c.agent_id).where(c.status.not_in([s.value for s in TERMINAL_COMMAND]))
        return await _agent_refs(self._session, stmt, c.agent_id, limit, after)


class SqlAlchemyReplicaRepository(_Base):
    async def get(self, agent_id: AgentId, replica_id: str) -> Replica | None:
        c = t.replicas.c
        return await self._one(Replica, select(t.replicas).where(c.agent_id == agent_id, c.replica_id == replica_id))

    async def list_for_agent(self, agent_id: AgentId, *, include_terminal: bool = False) -> Sequence[Replica]:
        c = t.replicas.c
        stmt = select(t.replicas).where(c.agent_id == agent_id)
        if not include_terminal:
            stmt = stmt.where(c.status.in_([s.value for s in NON_TERMINAL_REPLICA]))
        return await self._many(Replica, stmt.order_by(c.created_at, c.replica_id))

    async def find_by_instance(self, agent_id: AgentId, instance_id: str) -> Replica | None:
        c = t.replicas.c
        return await self._one(Replica, select(t.replicas).where(c.agent_id == agent_id, c.instance_id == instance_id))

    async def page_for_agent(
        self, agent_id: AgentId, statuses: Collection[ReplicaStatus], *, limit: int, offset: int
    ) -> tuple[Sequence[Replica], int]:
        return await replica_store.replica_page(self._session, self._tracker, agent_id, statuses, limit, offset)

    async def add(self, replica: Replica) -> None:
        self._add(replica)


class SqlAlchemyEpisodeRepository(_Base):
    async def get(self, episode_id: EpisodeId) -> InterruptionEpisode | None:
        stmt = select(t.episodes).where(t.episodes.c.episode_id == episode_id)
        return await self._one(InterruptionEpisode, stmt)

    async def find_open(self, agent_id: AgentId, instance_id: str | None = None) -> Sequence[InterruptionEpisode]:
        c = t.episodes.c
        stmt = select(t.episodes).where(c.agent_id == agent_id, c.state.in_([s.value for s in OPEN_EPISODE]))
        if instance_id is not None:
            stmt = stmt.where(c.instance_id == instance_id)
        return await self._many(InterruptionEpisode, stmt.order_by(c.opened_at))

    async def latest_for_instance(self, agent_id: AgentId, instance_id: str) -> InterruptionEpisode | None:
        c = t.episodes.c
        stmt = (
            select(t.episodes)
            .where(c.agent_id == agent_id, c.instance_id == instance_id)
            .order_by(c.opened_at.desc(), c.episode_id.desc())
            .limit(1)
        )
        return await self._one(InterruptionEpisode, stmt)

    async def add(self, episode: InterruptionEpisode) -> None:
        self._add(episode)


class SqlAlchemySignalRepository(_Base):
    async def add(self, signal: InterruptionSignal) -> None:
        await self._session.execute(insert(t.signals).values(**to_row(signal)))

    async def fleet_stats(self, pool_ids: Sequence[str], now: datetime) -> dict[str, PoolStats]:
        return await decision_store.fleet_stats(self._session, pool_ids, now)


class SqlAlchemySwitchRepository(_Base):
    async def find_by_new_instance(self, agent_id: AgentId, new_instance_id: str) -> Switch | None:
        c = t.switches.c
        stmt = select(t.switches).where(c.agent_id == agent_id, c.new_instance_id == new_instance_id)
        return await self._one(Switch, stmt)

    async def exists_for_command(self, command_id: CommandId) -> bool:
        stmt = select(exists().where(t.switches.c.command_id == command_id))
        return bool((await self._session.execute(stmt)).scalar())

    async def add(self, switch: Switch) -> None:
        self._add(switch)


class SqlAlchemyCleanupRepository(_Base):
    async def find_by_reported_at(self, agent_id: AgentId, reported_at: datetime) -> CleanupRecord | None:
        c = t.cleanup_records.c
        stmt = select(t.cleanup_records).where(and_(c.agent_id == agent_id, c.reported_at == reported_at))
        return await self._one(CleanupRecord, stmt)

    async def add(self, record: CleanupRecord) -> None:
        self._add(record)


class SqlAlchemyPricingRepository(_Base):
    async def add_report(self, report: PricingReport) -> None:
        await self._session.execute(insert(t.pricing_reports).values(**to_row(report)))

    async def add_submissions(self, submissions: Sequence[PricingSubmission]) -> int:
        return await insert_ignoring_duplicates(self._session, t.pricing_submissions, [to_row(s) for s in submissions])

    async def get_pool(self, pool_id: str) -> SpotPool | None:
        return await self._one(SpotPool, select(t.spot_pools).where(t.spot_pools.c.pool_id == pool_id))

    async def add_pool(self, pool: SpotPool) -> None:
        self._add(pool)

    async def list_pools(self, instance_type: str, region: str) -> Sequence[SpotPool]:
        c = t.spot_pools.c
        stmt = select(t.spot_pools).where(c.instance_type == instance_type, c.region == region).order_by(c.pool_id)
        return await self._many(SpotPool, stmt)

    async def get_ondemand(self, instance_type: str, region: str) -> OnDemandPrice | None:
        c = t.ondemand_prices.c
        stmt = select(t.ondemand_prices).where(c.instance_type == instance_type, c.region == region)
        return await self._one(OnDemandPrice, stmt)

    async def add_ondemand(self, price: OnDemandPrice) -> None:
        self._add(price)

    async def ensure_ondemand(self, initial: OnDemandPrice) -> OnDemandPrice:
        # No lock before the row exists: a locking read of a missing key takes a gap lock, and two first reports
        # inserting into the same gap deadlock. An atomic insert-if-absent, then the row lock, cannot.
        c = t.ondemand_prices.c
        stmt = select(t.ondemand_prices).where(c.instance_type == initial.instance_type, c.region == initial.region)
        exists_now = (await self._session.execute(select(exists().where(stmt.whereclause)))).scalar()  # type: ignore[arg-type]
        if not exists_now:
            await self._session.execute(_insert_if_absent(self._session, t.ondemand_prices, to_row(initial)))
        row = await self._one(OnDemandPrice, stmt, for_update=True)
        if row is None:  # pragma: no cover - the row was just inserted or already existed
            raise LookupError("on-demand catalogue row vanished")
        return row

    async def add_ondemand_observation(self, observation: OnDemandObservation) -> None:
        await self._session.execute(insert(t.ondemand_observations).values(**to_row(observation)))


class SqlAlchemyEventRepository(_Base):
    async def add_event(self, event: SystemEvent) -> None:
        await self._session.execute(
            insert(t.system_events).values(
                type=event.type,
                severity=event.severity.value,
                client_id=event.client_id,
                agent_id=event.agent_id,
                instance_id=event.instance_id,
                message=event.message,
                metadata=event.metadata,
                created_at=event.created_at,
            )
        )

    async def add_notification(self, notification: Notification) -> bool:
        return await insert_ignoring_duplicates(self._session, t.notifications, [to_row(notification)]) == 1

    async def notification_exists(self, client_id: ClientId, dedup_key: str) -> bool:
        c = t.notifications.c
        stmt = select(exists().where(c.client_id == client_id, c.dedup_key == dedup_key))
        return bool((await self._session.execute(stmt)).scalar())


class SqlAlchemyLedgerRepository(_Base):
    async def open_entry(self, client_id: ClientId, instance_id: str) -> LedgerEntry | None:
        c = t.ledger_entries.c
        stmt = select(t.ledger_entries).where(c.client_id == client_id, c.open_key == instance_id)
        return await self._one(LedgerEntry, stmt)

    async def save(self, entries: Sequence[LedgerEntry]) -> None:
        for entry in entries:
            if not self._tracker.is_tracked(entry):
                self._add(entry)

    async def open_entries_for_agent(self, agent_id: AgentId) -> Sequence[LedgerEntry]:
        c = t.ledger_entries.c
        stmt = select(t.ledger_entries).where(c.agent_id == agent_id, c.ended_at.is_(None))
        return await self._many(LedgerEntry, stmt.order_by(c.instance_id))

    async def agents_with_open_entries(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        c = t.ledger_entries.c
        stmt = select(c.client_id, c.agent_id).where(c.ended_at.is_(None))
        return await _agent_refs(self._session, stmt, c.agent_id, limit, after)

    async def entries_for_day(self, client_id: ClientId, day: date) -> Sequence[LedgerEntry]:
        c = t.ledger_entries.c
        start, end = day_start(day), day_end(day)
        closed_in_day = and_(c.ended_at.is_not(None), c.started_at >= start)
        stmt = select(t.ledger_entries).where(
            c.client_id == client_id, c.started_at < end, or_(closed_in_day, c.ended_at.is_(None))
        )
        return await self._many(LedgerEntry, stmt.order_by(c.started_at, c.entry_id))


async def _agent_refs(
    session: AsyncSession, stmt: Select[Any], agent_id: Any, limit: int, after: AgentId | None
) -> list[AgentRef]:
    """Distinct ``(client_id, agent_id)`` rows of ``stmt`` by agent id after ``after`` (keyset), at most ``limit``."""
    if after is not None:
        stmt = stmt.where(agent_id > after)
    rows = (await session.execute(stmt.distinct().order_by(agent_id).limit(limit))).all()
    return [AgentRef(client_id=ClientId(r.client_id), agent_id=AgentId(r.agent_id)) for r in rows]


class SqlAlchemyPriceBucketRepository(_Base):
    async def latest(self, pool_ids: Sequence[str], at: datetime) -> dict[str, CleanPriceBucket]:
        c = t.price_buckets.c
        found: dict[str, CleanPriceBucket] = {}
        for pool_id in dict.fromkeys(pool_ids):
            stmt = (
                select(t.price_buckets)
                .where(c.pool_id == pool_id, c.bucket_start <= at)
                .order_by(c.bucket_start.desc())
                .limit(1)
            )
            bucket = await self._one(CleanPriceBucket, stmt)
            if bucket is not None:
                found[pool_id] = bucket
        return found
