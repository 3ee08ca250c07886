"""Client notifications and the operator's system events (NT-1 … NT-6).

System events keep ``client_id``/``agent_id``/``instance_id`` as plain values: the operator log records what
happened to rows that may be purged long before it (NT-6), so it references nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spotopt.adapters.persistence.models.agents import AgentModel, owned_by_agent
from spotopt.adapters.persistence.models.base import Base
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.adapters.persistence.types import JSON, Id, Name, Text, UTCDateTime


class NotificationModel(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The agent is optional (NT-3); when present it is the client's own.
        owned_by_agent("notifications"),
        UniqueConstraint("client_id", "dedup_key", name="uq_notifications_client_id_dedup_key"),
        Index("ix_notifications_client_id_created_at", "client_id", "created_at"),
    )

    notification_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        Id(),
        ForeignKey("clients.client_id", ondelete="CASCADE", name="fk_notifications_client_id_clients"),
        nullable=False,
    )
    type: Mapped[str] = mapped_column(Name(), nullable=False)
    severity: Mapped[str] = mapped_column(Name(32), nullable=False)
    title: Mapped[str] = mapped_column(Name(), nullable=False)
    message: Mapped[str] = mapped_column(Text(), nullable=False)
    dedup_key: Mapped[str] = mapped_column(Name(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    agent_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    is_read: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    client: Mapped[ClientModel] = relationship(lazy="raise", overlaps="agent")
    agent: Mapped[AgentModel | None] = relationship(lazy="raise", overlaps="client")


class SystemEventModel(Base):
    __tablename__ = "system_events"

    event_id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    client_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    agent_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    instance_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    message: Mapped[str] = mapped_column(Text(), nullable=False)
    # ``metadata`` is reserved on declarative classes; the column keeps its name.
    event_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
