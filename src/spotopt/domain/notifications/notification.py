"""Stored notifications and system events (NT-1 … NT-6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import AgentId, ClientId


@dataclass(eq=False, slots=True)
class Notification:
    notification_id: str
    client_id: ClientId
    type: str
    severity: Severity
    title: str
    message: str
    dedup_key: str
    created_at: datetime
    agent_id: AgentId | None = None
    is_read: bool = False
    read_at: datetime | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Notification) and other.notification_id == self.notification_id

    def __hash__(self) -> int:
        return hash(self.notification_id)

    def mark_read(self, now: datetime) -> bool:
        """NT-5: ``read_at`` is set once."""
        if self.is_read:
            return False
        self.is_read = True
        self.read_at = now
        return True


@dataclass(eq=False, slots=True)
class SystemEvent:
    event_id: str
    type: str
    severity: Severity
    message: str
    created_at: datetime
    client_id: ClientId | None = None
    agent_id: AgentId | None = None
    instance_id: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)
