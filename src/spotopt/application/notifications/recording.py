"""Recording domain events inside the use case's transaction (NT-1, NT-4, CC-8)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.notifications.notification import Notification, SystemEvent
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import new_id


async def record_events(uow: UnitOfWork, events: Iterable[DomainEvent], now: datetime) -> None:
    """Every domain event becomes a system event; catalogued ones also notify the client (deduplicated)."""
    for event in events:
        await uow.events.add_event(
            SystemEvent(
                event_id="",
                type=event.type,
                severity=event.severity,
                message=event.message,
                created_at=now,
                client_id=event.client_id,
                agent_id=event.agent_id,
                instance_id=event.instance_id,
                metadata=dict(event.metadata),
            )
        )
        spec = event.notification
        if spec is None or event.client_id is None:
            continue
        await uow.events.add_notification(
            Notification(
                notification_id=new_id(),
                client_id=event.client_id,
                agent_id=event.agent_id,
                type=spec.name,
                severity=spec.severity,
                title=spec.title,
                message=spec.message,
                dedup_key=spec.dedup_key,
                created_at=now,
            )
        )
