"""Wire shapes of N1 – N3 (api.md §6, A.9)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from spotopt.domain.notifications.notification import Notification
from spotopt.entrypoints.http.wire import dt

SEVERITIES = frozenset({"info", "warning", "critical"})


class MarkAllReadRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    before: datetime | None = None
    client_token: str | None = None

    def before_utc(self) -> datetime | None:
        """§1.6: a time without offset is UTC."""
        if self.before is None:
            return None
        return self.before.replace(tzinfo=UTC) if self.before.tzinfo is None else self.before.astimezone(UTC)


class NotificationResponse(msgspec.Struct, kw_only=True):
    id: str
    client_id: str
    agent_id: str | None
    type: str
    severity: str
    title: str
    message: str
    is_read: bool
    read_at: str | None
    created_at: str


class NotificationListResponse(msgspec.Struct, kw_only=True):
    notifications: list[NotificationResponse]
    total: int
    unread_count: int


class MarkReadResponse(msgspec.Struct, kw_only=True):
    success: bool
    id: str
    is_read: bool
    read_at: str | None


class MarkAllReadResponse(msgspec.Struct, kw_only=True):
    success: bool
    marked: int


def notification_response(n: Notification) -> NotificationResponse:
    return NotificationResponse(
        id=n.notification_id,
        client_id=n.client_id,
        agent_id=n.agent_id,
        type=n.type,
        severity=n.severity.value,
        title=n.title,
        message=n.message,
        is_read=n.is_read,
        read_at=dt(n.read_at),
        created_at=dt(n.created_at) or "",
    )
