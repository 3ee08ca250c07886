"""The SQLAlchemy unit of work: one session, one transaction, explicit commit (house style §7).

The session is the identity map and the unit of work (``SessionEntities``); the repositories share it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.entities import SessionEntities
from spotopt.adapters.persistence.repositories.agents import (
    SqlAlchemyAgentRepository,
    SqlAlchemyInstanceRepository,
    SqlAlchemySightingRepository,
)
from spotopt.adapters.persistence.repositories.buckets import SqlAlchemyPriceBucketRepository
from spotopt.adapters.persistence.repositories.clients import SqlAlchemyAdminTokenRepository, SqlAlchemyClientRepository
from spotopt.adapters.persistence.repositories.commands import (
    SqlAlchemyCleanupRepository,
    SqlAlchemyCommandRepository,
    SqlAlchemySwitchRepository,
)
from spotopt.adapters.persistence.repositories.decisions import SqlAlchemyDecisionRepository
from spotopt.adapters.persistence.repositories.interruptions import (
    SqlAlchemyEpisodeRepository,
    SqlAlchemySignalRepository,
)
from spotopt.adapters.persistence.repositories.ledger import SqlAlchemyLedgerRepository, SqlAlchemySnapshotRepository
from spotopt.adapters.persistence.repositories.notifications import SqlAlchemyEventRepository
from spotopt.adapters.persistence.repositories.pricing import SqlAlchemyPricingRepository
from spotopt.adapters.persistence.repositories.replicas import SqlAlchemyReplicaRepository


class SqlAlchemyUnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self._entities = entities = SessionEntities(session)
        self.clients = SqlAlchemyClientRepository(entities)
        self.admin_tokens = SqlAlchemyAdminTokenRepository(entities)
        self.agents = SqlAlchemyAgentRepository(entities)
        self.instances = SqlAlchemyInstanceRepository(entities)
        self.sightings = SqlAlchemySightingRepository(entities)
        self.commands = SqlAlchemyCommandRepository(entities)
        self.replicas = SqlAlchemyReplicaRepository(entities)
        self.episodes = SqlAlchemyEpisodeRepository(entities)
        self.signals = SqlAlchemySignalRepository(entities)
        self.switches = SqlAlchemySwitchRepository(entities)
        self.cleanups = SqlAlchemyCleanupRepository(entities)
        self.pricing = SqlAlchemyPricingRepository(entities)
        self.events = SqlAlchemyEventRepository(entities)
        self.ledger = SqlAlchemyLedgerRepository(entities)
        self.snapshots = SqlAlchemySnapshotRepository(entities)
        self.buckets = SqlAlchemyPriceBucketRepository(entities)
        self.decisions = SqlAlchemyDecisionRepository(entities)

    async def flush(self) -> None:
        await self._entities.flush()

    async def commit(self) -> None:
        await self._entities.commit()

    async def rollback(self) -> None:
        await self._entities.rollback()
