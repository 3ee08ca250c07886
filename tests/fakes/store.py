"""The shared in-memory state behind the fakes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

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


@dataclass
class InMemoryStore:
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


def agent_refs_after(pairs: Iterable[tuple[ClientId, AgentId]], limit: int, after: AgentId | None) -> list[AgentRef]:
    """Distinct agents by agent id after ``after`` (keyset), at most ``limit``."""
    agents = dict(sorted((agent_id, client_id) for client_id, agent_id in pairs if after is None or agent_id > after))
    return [AgentRef(client_id=client_id, agent_id=agent_id) for agent_id, client_id in list(agents.items())[:limit]]
