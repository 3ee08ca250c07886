"""Read models of the admin realm (M8 – M12): fleet-wide, read-only, paged in the store.

Every method reads inside the request's transaction and never writes or commits; a page is one indexed query
plus at most one query per related table for the whole page (no N+1). ``total`` counts every match before paging.
Order ties are broken by id ascending (§1.8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.display_status import DisplayStatus
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.notifications.notification import SystemEvent
from spotopt.domain.replicas.current import ReplicaBrief
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.pools import Mode


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentFilter:
    client_id: str | None = None
    statuses: frozenset[DisplayStatus] = frozenset()  # empty = any
    include_deleted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentListing:
    agent: Agent
    client_name: str
    status: DisplayStatus
    replicas: Sequence[ReplicaBrief]  # the agent's non-terminal replicas


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceFilter:
    client_id: str | None = None
    roles: frozenset[InstanceRole] = frozenset()  # empty = any
    mode: Mode | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceListing:
    instance: Instance
    client_name: str
    logical_agent_id: str
    current_price: Decimal | None  # the price the instance's open ledger entry accrues at (None when unknown)
    baseline: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityFilter:
    since: datetime
    until: datetime
    severities: frozenset[Severity] = frozenset()  # empty = any
    types: frozenset[str] = frozenset()  # empty = any
    client_id: str | None = None


class HitType(StrEnum):
    CLIENT = "client"
    AGENT = "agent"
    INSTANCE = "instance"
    REPLICA = "replica"


HIT_ORDER = (HitType.CLIENT, HitType.AGENT, HitType.INSTANCE, HitType.REPLICA)


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit:
    type: HitType
    id: str
    label: str
    client_id: str
    client_name: str
    agent_id: str | None
    matched_field: str
    status: str
    exact: bool  # the query equals (case-insensitively) one of the hit's id fields


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthCounts:
    stale_agents: int
    failed_replicas_24h: int
    recent_errors_1h: int
    open_episodes: int


class AdminFleetView(Protocol):
    async def agents(self, flt: AgentFilter, *, limit: int, offset: int) -> tuple[Sequence[AgentListing], int]:
        """M9: newest ``last_heartbeat_at`` first, never-seen agents last."""
        ...

    async def instances(self, flt: InstanceFilter, *, limit: int, offset: int) -> tuple[Sequence[InstanceListing], int]:
        """M8: newest ``first_seen_at`` first."""
        ...


class AdminActivityView(Protocol):
    async def events(self, flt: ActivityFilter, *, limit: int, offset: int) -> tuple[Sequence[SystemEvent], int]:
        """M10: system events in ``[since, until]``, newest first."""
        ...

    async def health_counts(self, now: datetime) -> HealthCounts:
        """M11: agents ``online`` without a heartbeat for more than 120 s, replicas failed in the last 24 h,
        ``error``/``critical`` events of the last hour, episodes ``at_risk``/``terminating``.
        """
        ...


class FleetSearch(Protocol):
    async def search(
        self, text: str, types: frozenset[HitType], *, limit: int, offset: int
    ) -> tuple[Sequence[SearchHit], int]:
        """M12: case-insensitive substring match of ``text`` (taken literally: no wildcards) on client id, name,
        email; agent id, logical id, hostname; instance id; replica id, instance id. Exact id matches first, then
        ``HIT_ORDER``, then ``label``, then ``id``. Deleted agents are included.
        """
        ...
