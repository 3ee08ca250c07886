"""The in-memory unit of work."""

from __future__ import annotations

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
