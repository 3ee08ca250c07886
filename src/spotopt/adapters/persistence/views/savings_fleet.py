"""SQL of the fleet-count views (C20 ``mode_distribution``, M5, M7, M13): clients, agents, instances, episodes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.mappers.clients import CLIENTS
from spotopt.adapters.persistence.models.agents import AgentModel, InstanceModel
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.adapters.persistence.models.interruptions import EpisodeModel
from spotopt.adapters.persistence.models.pricing import SpotPoolModel
from spotopt.adapters.persistence.views.savings_ledger import chunked, rows, run
from spotopt.application.ports.savings_views import ClientCounts, FleetCounts
from spotopt.domain.agents.values import InstanceRole, Lifecycle, Liveness
from spotopt.domain.clients.client import Client, ClientStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.shared.ids import ClientId

_ROLES = (InstanceRole.PRIMARY.value, InstanceRole.STANDBY.value, InstanceRole.KEPT_OLD.value)
_OPEN_EPISODES = (EpisodeState.AT_RISK.value, EpisodeState.TERMINATING.value)


class SqlAlchemyFleetViews:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def page_clients(
        self, status: ClientStatus | None, *, limit: int, offset: int
    ) -> tuple[Sequence[Client], int]:
        c = ClientModel
        filters = [] if status is None else [c.status == status.value]
        total = int((await run(self._session, select(func.count()).select_from(c).where(*filters))).scalar_one())
        stmt = select(c).where(*filters).order_by(c.created_at.desc(), c.client_id.asc()).limit(limit).offset(offset)
        return [CLIENTS.to_domain(m) for m in (await run(self._session, stmt)).scalars()], total

    async def list_clients(self, *, include_inactive: bool) -> Sequence[Client]:
        c = ClientModel
        filters = [] if include_inactive else [c.status == ClientStatus.ACTIVE.value]
        stmt = select(c).where(*filters).order_by(c.created_at.asc(), c.client_id.asc())
        return [CLIENTS.to_domain(m) for m in (await run(self._session, stmt)).scalars()]

    async def client_counts(self, client_ids: Sequence[ClientId]) -> Mapping[ClientId, ClientCounts]:
        counts: dict[ClientId, dict[str, int]] = defaultdict(dict)
        for ids in chunked(client_ids):
            for client_id, values in (await self._counts(AgentModel.client_id.in_(ids))).items():
                counts[client_id].update(values)
        return {client_id: ClientCounts(**values) for client_id, values in counts.items()}

    async def primary_modes(self, client_id: ClientId) -> Mapping[str, int]:
        a, i = AgentModel, InstanceModel
        stmt = (
            select(i.mode, func.count())
            .join(a, a.agent_id == i.agent_id)
            .where(
                i.client_id == client_id, i.role == InstanceRole.PRIMARY.value, a.lifecycle == Lifecycle.ACTIVE.value
            )
            .group_by(i.mode)
        )
        return {mode: int(n) for mode, n in await rows(self._session, stmt)}

    async def fleet_counts(self, *, pools_seen_since: datetime) -> FleetCounts:
        c, e, p = ClientModel, EpisodeModel, SpotPoolModel
        active = select(func.count()).select_from(c).where(c.status == ClientStatus.ACTIVE.value)
        episodes = select(func.count()).select_from(e).where(e.state.in_(_OPEN_EPISODES))
        pools = select(func.count()).select_from(p).where(p.last_seen_at >= pools_seen_since)
        totals: dict[str, int] = defaultdict(int)
        for values in (await self._counts(None)).values():
            for key, value in values.items():
                totals[key] += value
        return FleetCounts(
            active_clients=int((await run(self._session, active)).scalar_one()),
            totals=ClientCounts(**totals),
            open_episodes=int((await run(self._session, episodes)).scalar_one()),
            pools_available=int((await run(self._session, pools)).scalar_one()),
        )

    async def _counts(self, scope: Any) -> dict[ClientId, dict[str, int]]:
        """Non-deleted agents (and online ones) and their instances by role, per client (``scope`` None = all)."""
        a, i = AgentModel, InstanceModel
        where = [a.lifecycle == Lifecycle.ACTIVE.value] + ([] if scope is None else [scope])
        online = func.sum(case((a.liveness == Liveness.ONLINE.value, 1), else_=0))
        agents = select(a.client_id, func.count(), online).where(*where).group_by(a.client_id)
        roles = (
            select(a.client_id, i.role, func.count())
            .join(i, i.agent_id == a.agent_id)
            .where(*where, i.role.in_(_ROLES))
            .group_by(a.client_id, i.role)
        )
        counts: dict[ClientId, dict[str, int]] = defaultdict(dict)
        for client_id, total, live in await rows(self._session, agents):
            counts[ClientId(client_id)].update(agents=int(total), agents_online=int(live or 0))
        for client_id, role, n in await rows(self._session, roles):
            counts[ClientId(client_id)][role] = int(n)
        return counts
