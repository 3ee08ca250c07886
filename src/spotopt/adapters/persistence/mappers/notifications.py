"""Notification and SystemEvent ↔ their rows."""

from __future__ import annotations

from typing import Any

from spotopt.adapters.persistence.mappers.base import Mapper, json_copy
from spotopt.adapters.persistence.models.notifications import NotificationModel, SystemEventModel
from spotopt.domain.notifications.notification import Notification, SystemEvent
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import AgentId, ClientId


class NotificationMapper(Mapper[Notification, NotificationModel]):
    model = NotificationModel

    def identity(self, entity: Notification) -> tuple[Any, ...]:
        return (entity.notification_id,)

    def to_domain(self, model: NotificationModel) -> Notification:
        m = model
        return Notification(
            notification_id=m.notification_id,
            client_id=ClientId(m.client_id),
            type=m.type,
            severity=Severity(m.severity),
            title=m.title,
            message=m.message,
            dedup_key=m.dedup_key,
            created_at=m.created_at,
            agent_id=None if m.agent_id is None else AgentId(m.agent_id),
            is_read=m.is_read,
            read_at=m.read_at,
        )

    def to_model(self, entity: Notification, model: NotificationModel | None = None) -> NotificationModel:
        n, m = entity, model if model is not None else NotificationModel()
        m.notification_id = n.notification_id
        m.client_id = n.client_id
        m.type = n.type
        m.severity = n.severity.value
        m.title = n.title
        m.message = n.message
        m.dedup_key = n.dedup_key
        m.created_at = n.created_at
        m.agent_id = n.agent_id
        m.is_read = n.is_read
        m.read_at = n.read_at
        return m


class SystemEventMapper(Mapper[SystemEvent, SystemEventModel]):
    """Events are appended, never read back as entities; the database numbers them (``event_id``)."""

    model = SystemEventModel

    def identity(self, entity: SystemEvent) -> tuple[Any, ...]:
        return (int(entity.event_id),) if entity.event_id else ()

    def to_domain(self, model: SystemEventModel) -> SystemEvent:
        m = model
        return SystemEvent(
            event_id=str(m.event_id),
            type=m.type,
            severity=Severity(m.severity),
            message=m.message,
            created_at=m.created_at,
            client_id=None if m.client_id is None else ClientId(m.client_id),
            agent_id=None if m.agent_id is None else AgentId(m.agent_id),
            instance_id=m.instance_id,
            metadata=json_copy(m.event_metadata),
        )

    def to_model(self, entity: SystemEvent, model: SystemEventModel | None = None) -> SystemEventModel:
        e, m = entity, model if model is not None else SystemEventModel()
        m.type = e.type
        m.severity = e.severity.value
        m.message = e.message
        m.created_at = e.created_at
        m.client_id = e.client_id
        m.agent_id = e.agent_id
        m.instance_id = e.instance_id
        m.event_metadata = json_copy(e.metadata)
        return m


NOTIFICATIONS = NotificationMapper()
SYSTEM_EVENTS = SystemEventMapper()
