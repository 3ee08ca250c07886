"""Domain events, system events and client notifications (domain §8)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from spotopt.domain.shared.ids import AgentId, ClientId


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class NotificationSpec:
    """NT-4/NT-5: a client notification caused by a domain event; ``name`` is the catalogue name on the wire."""

    name: str
    severity: Severity
    title: str
    message: str
    dedup_key: str


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """NT-1: every domain event becomes a system event; some also notify the client."""

    type: str
    severity: Severity
    message: str
    client_id: ClientId | None = None
    agent_id: AgentId | None = None
    instance_id: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)
    notification: NotificationSpec | None = None
