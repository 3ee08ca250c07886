"""Agents, their instances and unattached sightings (domain §2.2, §2.3, R-7).

``agents.primary_instance_id`` names an instance but carries no foreign key: instances reference their agent,
and the two-way reference would be a cycle the unit of work cannot order.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, ForeignKeyConstraint, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spotopt.adapters.persistence.models.base import Base
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.adapters.persistence.types import Id, Name, Ratio, UTCDateTime

# Rows owned by an agent reference it by (client_id, agent_id): the key that ties a row to its tenant, so a row can
# never name another client's agent, and purging an agent (or a client) takes its operational rows with it.
AGENT_KEY = ("client_id", "agent_id")
AGENT_REF = ("agents.client_id", "agents.agent_id")


def owned_by_agent(table: str, *, ondelete: str = "CASCADE") -> ForeignKeyConstraint:
    return ForeignKeyConstraint(AGENT_KEY, AGENT_REF, ondelete=ondelete, name=f"fk_{table}_client_id_agents")


class AgentModel(Base):
    __tablename__ = "agents"
    __table_args__ = (
        # AG-1: unique among active agents only; NULL for deleted ones (MySQL has no partial unique index).
        UniqueConstraint("client_id", "active_logical_key", name="uq_agents_client_id_active_logical_key"),
        UniqueConstraint("client_id", "agent_id", name="uq_agents_client_id_agent_id"),
        Index("ix_agents_client_id_created_at", "client_id", "created_at"),
        Index("ix_agents_last_heartbeat_at", "last_heartbeat_at"),  # M9 order
    )

    agent_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        Id(), ForeignKey("clients.client_id", ondelete="CASCADE", name="fk_agents_client_id_clients"), nullable=False
    )
    logical_agent_id: Mapped[str] = mapped_column(Name(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    hostname: Mapped[str | None] = mapped_column(Name(), nullable=True)
    agent_version: Mapped[str | None] = mapped_column(Name(), nullable=True)
    private_ip: Mapped[str | None] = mapped_column(Name(), nullable=True)
    public_ip: Mapped[str | None] = mapped_column(Name(), nullable=True)
    lifecycle: Mapped[str] = mapped_column(Name(32), nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    liveness: Mapped[str] = mapped_column(Name(32), nullable=False)
    liveness_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    offline_notified: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reported_status: Mapped[str | None] = mapped_column(Name(32), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    auto_switch_enabled: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    manual_replica_enabled: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    auto_terminate_enabled: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    terminate_wait_seconds: Mapped[int] = mapped_column(Integer(), nullable=False)
    # Thresholds (a value object), flattened.
    min_savings_percent: Mapped[Decimal] = mapped_column(Ratio(), nullable=False)
    risk_threshold: Mapped[Decimal] = mapped_column(Ratio(), nullable=False)
    max_switches_per_day: Mapped[int] = mapped_column(Integer(), nullable=False)
    max_switches_per_week: Mapped[int] = mapped_column(Integer(), nullable=False)
    min_pool_duration_hours: Mapped[int] = mapped_column(Integer(), nullable=False)
    cooldown_minutes: Mapped[int] = mapped_column(Integer(), nullable=False)
    primary_instance_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    instance_type: Mapped[str | None] = mapped_column(Name(), nullable=True)
    region: Mapped[str | None] = mapped_column(Name(), nullable=True)
    az: Mapped[str | None] = mapped_column(Name(), nullable=True)
    mode: Mapped[str | None] = mapped_column(Name(32), nullable=True)
    pool_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    placement_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_switch_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_failover_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_primary_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    interruption_count: Mapped[int] = mapped_column(Integer(), nullable=False)
    logical_id_warned: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    version: Mapped[int] = mapped_column(Integer(), nullable=False)
    # The logical id while active, NULL once deleted (set by the mapper).
    active_logical_key: Mapped[str | None] = mapped_column(Name(), nullable=True)

    client: Mapped[ClientModel] = relationship(lazy="raise")


class InstanceModel(Base):
    __tablename__ = "instances"
    __table_args__ = (
        owned_by_agent("instances"),
        Index("ix_instances_agent_id_role", "agent_id", "role"),
        Index("ix_instances_client_id_first_seen_at", "client_id", "first_seen_at"),  # C10 pages
        Index("ix_instances_first_seen_at", "first_seen_at"),  # M8 order
    )

    client_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    instance_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    agent_id: Mapped[str] = mapped_column(Id(), nullable=False)
    role: Mapped[str] = mapped_column(Name(32), nullable=False)
    origin: Mapped[str] = mapped_column(Name(32), nullable=False)
    instance_type: Mapped[str] = mapped_column(Name(), nullable=False)
    region: Mapped[str] = mapped_column(Name(), nullable=False)
    az: Mapped[str] = mapped_column(Name(), nullable=False)
    mode: Mapped[str] = mapped_column(Name(32), nullable=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    role_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ami_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    private_ip: Mapped[str | None] = mapped_column(Name(), nullable=True)
    public_ip: Mapped[str | None] = mapped_column(Name(), nullable=True)
    kept_reason: Mapped[str | None] = mapped_column(Name(32), nullable=True)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    primary_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    termination_expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expected_cause: Mapped[str | None] = mapped_column(Name(32), nullable=True)
    termination_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    termination_reason: Mapped[str | None] = mapped_column(Name(32), nullable=True)
    termination_confirmed: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    kept_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise")


class SightingModel(Base):
    __tablename__ = "unattached_sightings"
    __table_args__ = (owned_by_agent("unattached_sightings"),)

    client_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    instance_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    agent_id: Mapped[str] = mapped_column(Id(), nullable=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    instance_type: Mapped[str | None] = mapped_column(Name(), nullable=True)
    region: Mapped[str | None] = mapped_column(Name(), nullable=True)
    az: Mapped[str | None] = mapped_column(Name(), nullable=True)
    mode: Mapped[str | None] = mapped_column(Name(), nullable=True)
    ami_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    private_ip: Mapped[str | None] = mapped_column(Name(), nullable=True)
    public_ip: Mapped[str | None] = mapped_column(Name(), nullable=True)
    warned_on: Mapped[str | None] = mapped_column(Name(), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise")
