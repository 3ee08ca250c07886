"""Replicas (domain §2.4, §3.3)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spotopt.adapters.persistence.models.agents import AgentModel, owned_by_agent
from spotopt.adapters.persistence.models.base import Base
from spotopt.adapters.persistence.models.interruptions import EpisodeModel, episode_ref
from spotopt.adapters.persistence.types import JSON, Id, Name, Price, Ratio, Text, UTCDateTime


class ReplicaModel(Base):
    __tablename__ = "replicas"
    __table_args__ = (
        owned_by_agent("replicas"),
        UniqueConstraint("agent_id", "instance_id", name="uq_replicas_agent_id_instance_id"),
        # RP-6: at most one live replica per episode.
        UniqueConstraint("live_episode_key", name="uq_replicas_live_episode_key"),
        Index("ix_replicas_agent_id_status", "agent_id", "status"),
        Index("ix_replicas_client_id_created_at", "client_id", "created_at"),  # C17 pages
        Index("ix_replicas_status_failed_at", "status", "failed_at"),  # M11 failed_replicas_24h
    )

    replica_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    client_id: Mapped[str] = mapped_column(Id(), nullable=False)
    agent_id: Mapped[str] = mapped_column(Id(), nullable=False)
    kind: Mapped[str] = mapped_column(Name(32), nullable=False)
    status: Mapped[str] = mapped_column(Name(32), nullable=False)
    pool_id: Mapped[str] = mapped_column(Id(), nullable=False)
    instance_type: Mapped[str] = mapped_column(Name(), nullable=False)
    region: Mapped[str] = mapped_column(Name(), nullable=False)
    az: Mapped[str] = mapped_column(Name(), nullable=False)
    created_by: Mapped[str] = mapped_column(Name(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    sync_status: Mapped[str] = mapped_column(Name(32), nullable=False)
    state_transfer_progress: Mapped[Decimal] = mapped_column(Ratio(), nullable=False)
    sync_latency_ms: Mapped[int | None] = mapped_column(Integer(), nullable=True)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    instance_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    parent_instance_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    episode_id: Mapped[str | None] = mapped_column(Id(), episode_ref("replicas"), nullable=True)
    hourly_price_at_creation: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    launch_claims: Mapped[int] = mapped_column(Integer(), nullable=False)
    launch_lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    degraded_promotion: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    termination_reason: Mapped[str | None] = mapped_column(Text(), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text(), nullable=True)
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sync_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    termination_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer(), nullable=False)
    # The episode id while the replica is live, NULL once terminal (set by the mapper).
    live_episode_key: Mapped[str | None] = mapped_column(Id(), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise")
    episode: Mapped[EpisodeModel | None] = relationship(lazy="raise")
