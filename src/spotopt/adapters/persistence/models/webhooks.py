"""The outgoing webhook channel of notifications (domain §7.2 fan-out): endpoints and per-notification deliveries.

Both reference their client (and a delivery its notification) with ``ON DELETE CASCADE``: purging a client or a
notification by retention leaves no orphan delivery.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spotopt.adapters.persistence.models.base import Base
from spotopt.adapters.persistence.types import Id, Name, Text, UTCDateTime


class WebhookEndpointModel(Base):
    __tablename__ = "webhook_endpoints"

    client_id: Mapped[str] = mapped_column(
        Id(),
        ForeignKey("clients.client_id", ondelete="CASCADE", name="fk_webhook_endpoints_client_id_clients"),
        primary_key=True,
    )
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    # The signing key must be usable, so it is stored as issued (unlike tokens); it is never logged or returned.
    secret: Mapped[str] = mapped_column(Name(128), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class NotificationDeliveryModel(Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uq_notification_deliveries_notification_id_channel"),
        Index("ix_notification_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    delivery_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    notification_id: Mapped[str] = mapped_column(
        Id(),
        ForeignKey(
            "notifications.notification_id",
            ondelete="CASCADE",
            name="fk_notification_deliveries_notification_id_notifications",
        ),
        nullable=False,
    )
    client_id: Mapped[str] = mapped_column(
        Id(),
        ForeignKey("clients.client_id", ondelete="CASCADE", name="fk_notification_deliveries_client_id_clients"),
        nullable=False,
        index=True,
    )
    channel: Mapped[str] = mapped_column(Name(32), nullable=False)
    status: Mapped[str] = mapped_column(Name(32), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer(), nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
