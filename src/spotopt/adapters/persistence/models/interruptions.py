"""Interruption episodes and signals (domain §2.7, §3.5).

An episode names its replica (``replica_id``, ``promoted_replica_id``) and its fallback command without foreign
keys: the replica and the command reference the episode, and a reference both ways would be a cycle.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spotopt.adapters.persistence.models.agents import AgentModel, owned_by_agent
from spotopt.adapters.persistence.models.base import Base
from spotopt.adapters.persistence.types import Id, Name, UTCDateTime


def episode_ref(table: str) -> ForeignKey:
    """A pointer to an episode; it is cleared when retention purges the episode (§7.3), the row stays."""
    return ForeignKey(
        "interruption_episodes.episode_id", ondelete="SET NULL", name=f"fk_{table}_episode_id_interruption_episodes"
    )


class EpisodeModel(Base):
    __tablename__ = "interruption_episodes"
    __table_args__ = (
        owned_by_agent("interruption_episodes"),
        # EP-1: at most one open episode per (agent, instance).
        UniqueConstraint("agent_id", "open_key", name="uq_interruption_episodes_agent_id_open_key"),
        Index("ix_interruption_episodes_agent_id_instance_id", "agent_id", "instance_id"),
        # §5.3 failover_count per client and window (C18, C20, M7, M13).
        Index("ix_interruption_episodes_client_id_closed_at", "client_id", "closed_at"),
    )

    episode_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    client_id: Mapped[str] = mapped_column(Id(), nullable=False)
    agent_id: Mapped[str] = mapped_column(Id(), nullable=False)
    instance_id: Mapped[str] = mapped_column(Id(), nullable=False)
    state: Mapped[str] = mapped_column(Name(32), nullable=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    pool_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    first_rebalance_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_rebalance_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deadline_estimated: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    replica_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    replacements: Mapped[int] = mapped_column(Integer(), nullable=False)
    fallback_command_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    promoted_replica_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    new_instance_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    old_primary_terminated: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    degraded: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    late: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    response_ms: Mapped[int | None] = mapped_column(Integer(), nullable=True)
    failover_ms: Mapped[int | None] = mapped_column(Integer(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Name(), nullable=True)
    # The instance id while the episode is open, NULL once closed (set by the mapper).
    open_key: Mapped[str | None] = mapped_column(Id(), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise")


class SignalModel(Base):
    """Append-only (EP-2)."""

    __tablename__ = "interruption_signals"
    __table_args__ = (
        owned_by_agent("interruption_signals"),
        Index("ix_interruption_signals_pool_id_received_at", "pool_id", "received_at"),
    )

    signal_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    client_id: Mapped[str] = mapped_column(Id(), nullable=False)
    agent_id: Mapped[str] = mapped_column(Id(), nullable=False)
    kind: Mapped[str] = mapped_column(Name(32), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    attributed_role: Mapped[str] = mapped_column(Name(32), nullable=False)
    instance_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    pool_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    termination_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    episode_id: Mapped[str | None] = mapped_column(Id(), episode_ref("interruption_signals"), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise")
    episode: Mapped[EpisodeModel | None] = relationship(lazy="raise")
