"""The SQLAlchemy unit of work: one session, one transaction, explicit commit (house style §7)."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.decision_store import SqlAlchemyDecisionRepository
from spotopt.adapters.persistence.failures import is_lock_contention
from spotopt.adapters.persistence.mapper import Tracker
from spotopt.adapters.persistence.pricing_repositories import (
    SqlAlchemyPriceBucketRepository,
    SqlAlchemyPricingRepository,
)
from spotopt.adapters.persistence.repositories import (
    SqlAlchemyAdminTokenRepository,
    SqlAlchemyAgentRepository,
    SqlAlchemyCleanupRepository,
    SqlAlchemyClientRepository,
    SqlAlchemyCommandRepository,
    SqlAlchemyEpisodeRepository,
    SqlAlchemyEventRepository,
    SqlAlchemyInstanceRepository,
    SqlAlchemyLedgerRepository,
    SqlAlchemyReplicaRepository,
    SqlAlchemySightingRepository,
    SqlAlchemySignalRepository,
    SqlAlchemySwitchRepository,
)
from spotopt.adapters.persistence.snapshots import SqlAlchemySnapshotRepository
from spotopt.application.errors import ConflictError, LockContentionError, UnavailableError


class SqlAlchemyUnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._tracker = Tracker(session)
        args = (session, self._tracker)
        self.clients = SqlAlchemyClientRepository(*args)
        self.admin_tokens = SqlAlchemyAdminTokenRepository(*args)
        self.agents = SqlAlchemyAgentRepository(*args)
        self.instances = SqlAlchemyInstanceRepository(*args)
        self.sightings = SqlAlchemySightingRepository(*args)
        self.commands = SqlAlchemyCommandRepository(*args)
        self.replicas = SqlAlchemyReplicaRepository(*args)
        self.episodes = SqlAlchemyEpisodeRepository(*args)
        self.signals = SqlAlchemySignalRepository(*args)
        self.switches = SqlAlchemySwitchRepository(*args)
        self.cleanups = SqlAlchemyCleanupRepository(*args)
        self.pricing = SqlAlchemyPricingRepository(*args)
        self.events = SqlAlchemyEventRepository(*args)
        self.ledger = SqlAlchemyLedgerRepository(*args)
        self.snapshots = SqlAlchemySnapshotRepository(*args)
        self.buckets = SqlAlchemyPriceBucketRepository(*args)
        self.decisions = SqlAlchemyDecisionRepository(*args)

    async def flush(self) -> None:
        try:
            await self._tracker.flush()
        except IntegrityError as exc:
            log.warning("unique key rejected a write: %s", _constraint(exc))
            raise ConflictError("The change conflicts with existing data", code="conflict") from exc
        except DBAPIError as exc:
            if is_lock_contention(exc):
                raise LockContentionError from exc
            raise

    async def commit(self) -> None:
        await self.flush()
        try:
            await self._session.commit()
        except IntegrityError as exc:
            log.warning("unique key rejected a write: %s", _constraint(exc))
            raise ConflictError("The change conflicts with existing data", code="conflict") from exc
        except OperationalError as exc:
            if is_lock_contention(exc):
                raise LockContentionError from exc
            raise UnavailableError("database") from exc

    async def rollback(self) -> None:
        self._tracker.clear()  # rolled-back changes must never be flushed by a later commit
        try:
            await self._session.rollback()
        except DBAPIError:  # the connection may already be gone; the scope discards it
            return


log = logging.getLogger("spotopt.persistence")


def _constraint(exc: IntegrityError) -> str:
    """The driver's one-line reason (constraint name), for the server log only — never for a response."""
    args = getattr(exc.orig, "args", ())
    return str(args[-1] if args else exc.orig)[:300]
