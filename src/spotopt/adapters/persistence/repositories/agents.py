"""Agents, instances and unattached sightings (ports in ``application/ports/agents.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, or_, select, true

from spotopt.adapters.persistence.mappers.agents import AGENTS, INSTANCES, SIGHTINGS
from spotopt.adapters.persistence.models.agents import AgentModel, InstanceModel, SightingModel
from spotopt.adapters.persistence.models.commands import CommandModel
from spotopt.adapters.persistence.models.interruptions import EpisodeModel
from spotopt.adapters.persistence.models.replicas import ReplicaModel
from spotopt.adapters.persistence.repositories.base import RowsSelect, SqlAlchemyRepository
from spotopt.adapters.persistence.repositories.locks import bounded_lock
from spotopt.application.ports.agents import AgentRef, StaleAgent
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.sighting import UnattachedSighting
from spotopt.domain.agents.values import InstanceRole, KeptReason, Lifecycle, Liveness
from spotopt.domain.commands.values import CommandStatus, CommandType
from spotopt.domain.interruptions.values import OPEN_EPISODE
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA
from spotopt.domain.shared.ids import AgentId, ClientId

_LIVE_SWITCH = [CommandStatus.PENDING.value, CommandStatus.DELIVERED.value]


class SqlAlchemyAgentRepository(SqlAlchemyRepository[Agent, AgentModel]):
    mapper = AGENTS

    @staticmethod
    def _visible(client_id: ClientId, agent_id: str) -> Select[Any]:
        a = AgentModel
        return select(a).where(a.client_id == client_id, a.agent_id == agent_id, a.lifecycle == Lifecycle.ACTIVE.value)

    async def get(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return await self._one(self._visible(client_id, agent_id))

    async def get_for_update(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return await self._locked(self._visible(client_id, agent_id).with_for_update())

    async def get_for_update_skip_locked(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return await self._locked(self._visible(client_id, agent_id).with_for_update(skip_locked=True))

    async def get_for_update_bounded(self, client_id: ClientId, agent_id: str, *, wait_seconds: int) -> Agent | None:
        return await self._locked(bounded_lock(self._visible(client_id, agent_id), self._session, wait_seconds))

    async def find_active_by_logical_id(
        self, client_id: ClientId, logical_agent_id: str, *, for_update: bool = False
    ) -> Agent | None:
        a = AgentModel
        stmt = select(a).where(a.client_id == client_id, a.active_logical_key == logical_agent_id)
        return await (self._locked(stmt.with_for_update()) if for_update else self._one(stmt))

    async def count_active(self, client_id: ClientId) -> int:
        return await self._count(AgentModel.client_id == client_id, AgentModel.lifecycle == Lifecycle.ACTIVE.value)

    async def add(self, agent: Agent) -> None:
        self._db.add(AGENTS, agent)

    async def list_stale_online(self, cutoff: datetime, limit: int) -> Sequence[StaleAgent]:
        a = AgentModel
        stmt = (
            select(a.client_id, a.agent_id, a.last_heartbeat_at)
            .where(
                a.lifecycle == Lifecycle.ACTIVE.value,
                a.liveness == Liveness.ONLINE.value,
                a.last_heartbeat_at < cutoff,
            )
            .order_by(a.last_heartbeat_at, a.agent_id)
            .limit(limit)
        )
        rows = (await self._db.execute(stmt)).all()
        return [
            StaleAgent(
                client_id=ClientId(r.client_id), agent_id=AgentId(r.agent_id), last_heartbeat_at=r.last_heartbeat_at
            )
            for r in rows
        ]

    async def list_evaluable_agents(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        """§7.2 evaluator inputs in one query: the flags, liveness, no open episode, no live switch."""
        a, e, c = AgentModel, EpisodeModel, CommandModel
        open_episode = exists().where(e.agent_id == a.agent_id, e.state.in_([s.value for s in OPEN_EPISODE]))
        live_switch = exists().where(
            c.agent_id == a.agent_id, c.type == CommandType.SWITCH.value, c.status.in_(_LIVE_SWITCH)
        )
        stmt = select(a.client_id, a.agent_id).where(
            a.lifecycle == Lifecycle.ACTIVE.value,
            a.enabled == true(),
            a.auto_switch_enabled == true(),
            a.liveness == Liveness.ONLINE.value,
            ~open_episode,
            ~live_switch,
        )
        return await self._refs(stmt, limit, after)

    async def agents_needing_coordination(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        a, r, e, i = AgentModel, ReplicaModel, EpisodeModel, InstanceModel
        live_replica = exists().where(r.agent_id == a.agent_id, r.status.in_([s.value for s in NON_TERMINAL_REPLICA]))
        open_episode = exists().where(e.agent_id == a.agent_id, e.state.in_([s.value for s in OPEN_EPISODE]))
        awaiting = exists().where(
            i.agent_id == a.agent_id,
            i.role == InstanceRole.KEPT_OLD.value,
            i.kept_reason == KeptReason.AWAITING_TERMINATION.value,
        )
        stmt = select(a.client_id, a.agent_id).where(
            a.lifecycle == Lifecycle.ACTIVE.value,
            or_(a.manual_replica_enabled.is_(True), live_replica, open_episode, awaiting),
        )
        return await self._refs(stmt, limit, after)

    async def _refs(self, stmt: RowsSelect, limit: int, after: AgentId | None) -> list[AgentRef]:
        if after is not None:
            stmt = stmt.where(AgentModel.agent_id > after)
        rows = (await self._db.execute(stmt.order_by(AgentModel.agent_id).limit(limit))).all()
        return [AgentRef(client_id=ClientId(r.client_id), agent_id=AgentId(r.agent_id)) for r in rows]


class SqlAlchemyInstanceRepository(SqlAlchemyRepository[Instance, InstanceModel]):
    mapper = INSTANCES

    async def get(self, client_id: ClientId, instance_id: str) -> Instance | None:
        i = InstanceModel
        return await self._one(select(i).where(i.client_id == client_id, i.instance_id == instance_id))

    async def list_for_agent(self, agent_id: AgentId) -> Sequence[Instance]:
        return await self._list(InstanceModel.agent_id == agent_id, order_by=[InstanceModel.first_seen_at.asc()])

    async def add(self, instance: Instance) -> None:
        self._db.add(INSTANCES, instance)


class SqlAlchemySightingRepository(SqlAlchemyRepository[UnattachedSighting, SightingModel]):
    mapper = SIGHTINGS

    async def get(self, client_id: ClientId, instance_id: str) -> UnattachedSighting | None:
        s = SightingModel
        return await self._one(select(s).where(s.client_id == client_id, s.instance_id == instance_id))

    async def add(self, sighting: UnattachedSighting) -> None:
        self._db.add(SIGHTINGS, sighting)

    async def delete(self, sighting: UnattachedSighting) -> None:
        await self._db.delete(SIGHTINGS, sighting)
