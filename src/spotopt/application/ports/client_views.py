"""Read models of the client routes (api.md §5): pages a client reads about its own fleet.

Every method reads only the given client's rows (CL-4) and answers from indexed queries: a page costs a fixed
number of statements whatever its size (no N+1). Nothing here writes or commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.display_status import DisplayStatus, display_status
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceRole, KeptReason
from spotopt.domain.decisions.decision import Action, Decision
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.pricing.market import PricingReport
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.pools import Mode


@dataclass(frozen=True, slots=True, kw_only=True)
class PageRequest:
    """§1.8 ``limit`` / ``offset``."""

    limit: int = 50
    offset: int = 0


FIRST_PAGE = PageRequest()


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentView:
    """A.2: the agent with what is derived from its replicas, commands and episodes."""

    agent: Agent
    switching: bool
    replica_count: int
    current_replica_id: str | None

    @property
    def status(self) -> DisplayStatus:
        return display_status(self.agent, switching=self.switching)


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceView:
    """A.3: the instance, its agent's logical id, and the prices of its open ledger entry (the price in effect)."""

    instance: Instance
    logical_agent_id: str
    current_price: Decimal | None
    baseline: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplicaView:
    replica: Replica
    logical_agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionView:
    decision: Decision
    logical_agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetCounts:
    """C2 counts over the client's non-deleted agents."""

    agent_count: int
    agents_online: int
    primary_count: int
    standby_count: int
    kept_old_count: int
    last_heartbeat_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentFilter:
    statuses: frozenset[DisplayStatus] | None = None
    include_deleted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceFilter:
    roles: frozenset[InstanceRole]
    kept_reasons: frozenset[KeptReason] | None = None
    mode: Mode | None = None
    agent_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplicaFilter:
    statuses: frozenset[ReplicaStatus]
    agent_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionFilter:
    since: datetime
    agent_id: str | None = None
    triggers: frozenset[Trigger] | None = None
    actions: frozenset[Action] | None = None


class ClientViews(Protocol):
    """The client routes' read models. ``now`` decides what is derived at read time (a command lease unexpired)."""

    async def owns_agent(self, client_id: ClientId, agent_id: str) -> bool:
        """Whether the client has an agent with this id, deleted ones included (filters of list routes)."""
        ...

    async def fleet_counts(self, client_id: ClientId) -> FleetCounts: ...

    async def final_savings_before(self, client_id: ClientId, day: date) -> Decimal:
        """Σ ``savings`` of the client's final daily snapshots of days before ``day`` (§5.3 ``total_savings``)."""
        ...

    async def agents(
        self, client_id: ClientId, where: AgentFilter, page: PageRequest, now: datetime
    ) -> tuple[Sequence[AgentView], int]:
        """C3: newest ``created_at`` first (ties by id), and the number of matches."""
        ...

    async def instances(
        self, client_id: ClientId, where: InstanceFilter, page: PageRequest
    ) -> tuple[Sequence[InstanceView], int]:
        """C10: newest ``first_seen_at`` first (ties by id), and the number of matches."""
        ...

    async def instance(self, client_id: ClientId, instance_id: str) -> InstanceView | None:
        """One of the client's instances, or None (another client's, or unknown)."""
        ...

    async def replicas(
        self, client_id: ClientId, where: ReplicaFilter, page: PageRequest
    ) -> tuple[Sequence[ReplicaView], int]:
        """C17: newest ``created_at`` first (ties by id), and the number of matches."""
        ...

    async def decisions(
        self, client_id: ClientId, where: DecisionFilter, page: PageRequest
    ) -> tuple[Sequence[DecisionView], int]:
        """C4: ``evaluated_at >= since``, newest first (ties by id), and the number of matches."""
        ...

    async def pricing_reports(
        self, client_id: ClientId, since: datetime, agent_id: str | None, page: PageRequest
    ) -> tuple[Sequence[PricingReport], int]:
        """C14: ``received_at >= since``, newest first (ties by id), and the number of matches."""
        ...
