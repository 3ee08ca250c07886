"""Agent commands, switch records and cleanup records (domain §2.5, §2.6, T-2).

A superseded command's ``superseded_by`` names its successor without a foreign key: the successor is inserted in
the same flush, after the predecessor's UPDATE, and references it back through ``superseded_command_id``.
``decision_id`` is a plain value too: an evaluator decision that queues a command is not always stored (DP-14).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spotopt.adapters.persistence.models.agents import AgentModel, owned_by_agent
from spotopt.adapters.persistence.models.base import Base
from spotopt.adapters.persistence.models.interruptions import EpisodeModel, episode_ref
from spotopt.adapters.persistence.types import JSON, Id, Name, Price, Text, UTCDateTime


def command_ref(table: str, column: str = "command_id") -> ForeignKey:
    """A pointer to a command; it is cleared when retention purges the command (30 days, §7.3), the row stays."""
    return ForeignKey("commands.command_id", ondelete="SET NULL", name=f"fk_{table}_{column}_commands")


class CommandModel(Base):
    __tablename__ = "commands"
    __table_args__ = (
        owned_by_agent("commands"),
        UniqueConstraint("agent_id", "idempotency_key", name="uq_commands_agent_id_idempotency_key"),
        Index("ix_commands_agent_id_status", "agent_id", "status"),
    )

    command_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    client_id: Mapped[str] = mapped_column(Id(), nullable=False)
    agent_id: Mapped[str] = mapped_column(Id(), nullable=False)
    type: Mapped[str] = mapped_column(Name(32), nullable=False)
    target_mode: Mapped[str] = mapped_column(Name(32), nullable=False)
    target_pool_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    terminate_wait_seconds: Mapped[int] = mapped_column(Integer(), nullable=False)
    priority: Mapped[int] = mapped_column(Integer(), nullable=False)
    origin: Mapped[str] = mapped_column(Name(32), nullable=False)
    target_instance_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    status: Mapped[str] = mapped_column(Name(32), nullable=False)
    motive: Mapped[str | None] = mapped_column(Name(), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text(), nullable=True)
    decision_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    episode_id: Mapped[str | None] = mapped_column(Id(), episode_ref("commands"), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(Name(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivery_count: Mapped[int] = mapped_column(Integer(), nullable=False)
    lease_pinned: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    success: Mapped[bool | None] = mapped_column(Boolean(), nullable=True)
    message: Mapped[str | None] = mapped_column(Text(), nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    superseded_by: Mapped[str | None] = mapped_column(Id(), nullable=True)
    superseded_command_id: Mapped[str | None] = mapped_column(
        Id(), command_ref("commands", "superseded_command_id"), nullable=True
    )
    cancel_reason: Mapped[str | None] = mapped_column(Name(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise")
    episode: Mapped[EpisodeModel | None] = relationship(lazy="raise")
    superseded_command: Mapped[CommandModel | None] = relationship(lazy="raise", remote_side=[command_id])


class SwitchModel(Base):
    __tablename__ = "switches"
    __table_args__ = (
        owned_by_agent("switches"),
        UniqueConstraint("agent_id", "new_instance_id", name="uq_switches_agent_id_new_instance_id"),
        Index("ix_switches_client_id_received_at", "client_id", "received_at"),
        # Covers C20's switch origins and the windowed counts of C18/C19/M13 (index-only scans).
        Index("ix_switches_client_id_received_at_origin", "client_id", "received_at", "origin"),
    )

    switch_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    client_id: Mapped[str] = mapped_column(Id(), nullable=False)
    agent_id: Mapped[str] = mapped_column(Id(), nullable=False)
    logical_agent_id: Mapped[str] = mapped_column(Name(), nullable=False)
    origin: Mapped[str] = mapped_column(Name(), nullable=False)
    # InstanceFacts of the old and the new instance, flattened.
    old_instance_id: Mapped[str] = mapped_column(Id(), nullable=False)
    old_instance_type: Mapped[str | None] = mapped_column(Name(), nullable=True)
    old_region: Mapped[str | None] = mapped_column(Name(), nullable=True)
    old_az: Mapped[str | None] = mapped_column(Name(), nullable=True)
    old_mode: Mapped[str | None] = mapped_column(Name(), nullable=True)
    old_pool_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    old_ami_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    new_instance_id: Mapped[str] = mapped_column(Id(), nullable=False)
    new_instance_type: Mapped[str | None] = mapped_column(Name(), nullable=True)
    new_region: Mapped[str | None] = mapped_column(Name(), nullable=True)
    new_az: Mapped[str | None] = mapped_column(Name(), nullable=True)
    new_mode: Mapped[str | None] = mapped_column(Name(), nullable=True)
    new_pool_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    new_ami_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    # SwitchTiming, flattened.
    timing_initiated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    timing_launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    timing_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    timing_traffic_switched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    timing_old_terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    timing_ami_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    applied: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    command_id: Mapped[str | None] = mapped_column(Id(), command_ref("switches"), nullable=True)
    trigger: Mapped[str | None] = mapped_column(Name(), nullable=True)
    reported_prices: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    old_price: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    new_price: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    baseline: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise")
    command: Mapped[CommandModel | None] = relationship(lazy="raise")


class CleanupRecordModel(Base):
    __tablename__ = "cleanup_records"
    __table_args__ = (
        owned_by_agent("cleanup_records"),
        UniqueConstraint("agent_id", "reported_at", name="uq_cleanup_records_agent_id_reported_at"),
    )

    record_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    client_id: Mapped[str] = mapped_column(Id(), nullable=False)
    agent_id: Mapped[str] = mapped_column(Id(), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deleted_snapshots: Mapped[int] = mapped_column(Integer(), nullable=False)
    deleted_amis: Mapped[int] = mapped_column(Integer(), nullable=False)
    failed_count: Mapped[int] = mapped_column(Integer(), nullable=False)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    old_instance_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    old_instance_result: Mapped[str | None] = mapped_column(Name(), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise")
