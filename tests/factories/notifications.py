"""Builders of notifications."""

from __future__ import annotations

from typing import Any

from spotopt.domain.notifications.notification import Notification
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import ClientId, new_id
from tests.factories.common import T0


def make_notification(client_id: ClientId, dedup_key: str, **overrides: Any) -> Notification:
    values: dict[str, Any] = {
        "notification_id": new_id(),
        "client_id": client_id,
        "type": "agent-registered",
        "severity": Severity.INFO,
        "title": "New agent registered",
        "message": "registered",
        "dedup_key": dedup_key,
        "created_at": T0,
    }
    values.update(overrides)
    return Notification(**values)
