"""The shared in-memory state behind the fakes, and its one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import ClassVar

from spotopt.application.ports.agents import AgentRef
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.sighting import UnattachedSighting
from spotopt.domain.clients.client import Client
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch import CleanupRecord, Switch
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.interruptions.episode import InterruptionEpisode, InterruptionSignal
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.ledger.snapshots import (
    ClientGrowthSnapshot,
    SavingsDailySnapshot,
    SavingsMonthlySnapshot,
)
from spotopt.domain.notifications.notification import Notification, SystemEvent
from spotopt.domain.pricing.buckets import CleanPriceBucket
from spotopt.domain.pricing.gaps import InterpolationRecord
from spotopt.domain.pricing.market import OnDemandObservation, OnDemandPrice, PricingReport, PricingSubmission, SpotPool
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.shared.ids import AgentId, ClientId
from tests.fakes.snapshot import Restore, capture


@dataclass
class InMemoryStore:
    """The tables, holding the committed state between transactions.

    The first repository access after a commit or rollback opens the transaction (``begin``): the store remembers
    every table. ``commit`` keeps what changed since; ``rollback`` puts every table back in place as it was at
    ``begin``. Test set-up that writes the tables directly while no transaction is open writes committed state.
    One transaction at a time: two units of work over one store share it (there is no isolation between them).
    """

    clients: dict[str, Client] = field(default_factory=dict)
    admin_tokens: set[str] = field(default_factory=set)
    agents: dict[str, Agent] = field(default_factory=dict)
    instances: dict[tuple[str, str], Instance] = field(default_factory=dict)
    sightings: dict[tuple[str, str], UnattachedSighting] = field(default_factory=dict)
    commands: dict[str, AgentCommand] = field(default_factory=dict)
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
    interpolation_records: dict[str, InterpolationRecord] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)
    daily_snapshots: dict[tuple[str, date], SavingsDailySnapshot] = field(default_factory=dict)
    monthly_snapshots: dict[tuple[str, int, int], SavingsMonthlySnapshot] = field(default_factory=dict)
    growth_snapshots: dict[date, ClientGrowthSnapshot] = field(default_factory=dict)

    DETACHED: ClassVar[frozenset[str]] = frozenset({"buckets", "interpolation_records"})
    """Tables whose repositories hand out copies only: their rows never change in place, so a transaction only
    needs to remember which rows they hold."""

    def __post_init__(self) -> None:
        self._restore: list[Restore] | None = None

    @property
    def in_transaction(self) -> bool:
        return self._restore is not None

    def begin(self) -> None:
        """Open the transaction unless one is open: remember the committed state of every table."""
        if self._restore is None:
            self._restore = [
                capture(getattr(self, f.name), rows_change=f.name not in self.DETACHED) for f in fields(self)
            ]

    def commit(self) -> None:
        self._restore = None

    def rollback(self) -> None:
        """Discard every change since ``begin``, in place (the entities that tests hold are reset, not replaced)."""
        restore, self._restore = self._restore, None
        for put_back in restore or ():
            put_back()


class InMemoryRepository:
    """Base of the fake repositories: reaching the tables through ``store`` opens the transaction."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    @property
    def store(self) -> InMemoryStore:
        self._store.begin()
        return self._store


def agent_refs_after(pairs: Iterable[tuple[ClientId, AgentId]], limit: int, after: AgentId | None) -> list[AgentRef]:
    """Distinct agents by agent id after ``after`` (keyset), at most ``limit``."""
    agents = dict(sorted((agent_id, client_id) for client_id, agent_id in pairs if after is None or agent_id > after))
    return [AgentRef(client_id=client_id, agent_id=agent_id) for agent_id, client_id in list(agents.items())[:limit]]
