"""The in-memory unit of work: changes stay apart until ``commit``, as in the SQL one (house style §7, §13)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Generic, ParamSpec, TypeVar

from tests.fakes.agents import InMemoryAgentRepository, InMemoryInstanceRepository, InMemorySightingRepository
from tests.fakes.clients import InMemoryAdminTokenRepository, InMemoryClientRepository
from tests.fakes.commands import InMemoryCleanupRepository, InMemoryCommandRepository, InMemorySwitchRepository
from tests.fakes.decisions import InMemoryDecisionRepository
from tests.fakes.interruptions import InMemoryEpisodeRepository, InMemorySignalRepository
from tests.fakes.ledger import InMemoryLedgerRepository, InMemorySnapshotRepository
from tests.fakes.notifications import InMemoryEventRepository
from tests.fakes.pricing import InMemoryPriceBucketRepository, InMemoryPricingRepository
from tests.fakes.replicas import InMemoryReplicaRepository
from tests.fakes.store import InMemoryStore


class InMemoryUnitOfWork:
    """Repositories over one shared store, in one transaction at a time.

    - The first repository access after a commit, a rollback or ``close`` begins the transaction. Every change made
      through the repositories, and every change to an entity they returned, is kept apart until ``commit``.
    - ``rollback`` discards those changes: the store is exactly as at the last commit, with the same entity objects.
    - ``close`` ends the scope, like the REQUEST scope that closes the session: uncommitted work is discarded. Test
      harnesses close after every use-case call, so a missing commit shows up as lost state.
    - ``commits`` and ``rollbacks`` count the use case's own calls (``close`` and ``commit_setup`` are not counted).
    """

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
        self.store.commit()

    async def rollback(self) -> None:
        self.rollbacks += 1
        self.store.rollback()

    async def close(self) -> None:
        """End the scope: discard uncommitted work (a no-op after a commit)."""
        self.store.rollback()

    async def commit_setup(self) -> None:
        """Commit what test set-up wrote through the repositories, without counting it as a use-case commit."""
        self.store.commit()

    async def __aenter__(self) -> InMemoryUnitOfWork:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def flush(self) -> None:
        return None

    def event_types(self) -> list[str]:
        return [e.type for e in self.store.events]


P = ParamSpec("P")
R = TypeVar("R")


class InScope(Generic[P, R]):
    """A use case whose every call is its own scope: the scope ends after the call, discarding uncommitted work
    (a failure half-way, or a missing commit), as the REQUEST scope around an HTTP request or a job does.
    """

    def __init__(self, execute: Callable[P, Awaitable[R]], uow: InMemoryUnitOfWork) -> None:
        self._execute = execute
        self._uow = uow

    async def execute(self, *args: P.args, **kwargs: P.kwargs) -> R:
        async with self._uow:
            return await self._execute(*args, **kwargs)
