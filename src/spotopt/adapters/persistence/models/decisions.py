"""Stored decisions (DP-14, DP-15); C4 lists them by the agents of a client (joined on ``agent_id``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spotopt.adapters.persistence.models.agents import AgentModel
from spotopt.adapters.persistence.models.base import Base
from spotopt.adapters.persistence.models.commands import CommandModel, command_ref
from spotopt.adapters.persistence.types import JSON, Id, Name, Price, Text, UTCDateTime


class DecisionModel(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_agent_id_evaluated_at", "agent_id", "evaluated_at"),
        Index("ix_decisions_agent_id_trigger_evaluated_at", "agent_id", "trigger", "evaluated_at"),
        Index("ix_decisions_evaluated_at", "evaluated_at"),
    )

    decision_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    agent_id: Mapped[str] = mapped_column(
        Id(), ForeignKey("agents.agent_id", ondelete="CASCADE", name="fk_decisions_agent_id_agents"), nullable=False
    )
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    trigger: Mapped[str] = mapped_column(Name(32), nullable=False)
    action: Mapped[str] = mapped_column(Name(32), nullable=False)
    target_mode: Mapped[str] = mapped_column(Name(32), nullable=False)
    target_pool_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    motive: Mapped[str] = mapped_column(Name(32), nullable=False)
    expected_hourly_savings: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    expected_savings_vs_ondemand: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    risk: Mapped[Decimal] = mapped_column(Price(), nullable=False)
    confidence: Mapped[Decimal] = mapped_column(Price(), nullable=False)
    allowed: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    reason_code: Mapped[str] = mapped_column(Name(32), nullable=False)
    reason: Mapped[str] = mapped_column(Text(), nullable=False)
    engine_kind: Mapped[str] = mapped_column(Name(32), nullable=False)
    policy_version: Mapped[str] = mapped_column(Name(), nullable=False)
    risk_model_version: Mapped[str | None] = mapped_column(Text(), nullable=True)
    price_model_version: Mapped[str | None] = mapped_column(Text(), nullable=True)
    fallback_used: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    flags: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    # Candidate value objects as JSON objects (pool_id, price, forecast_price, risk as strings; verdict).
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    will_auto_execute: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    retry_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    command_id: Mapped[str | None] = mapped_column(Id(), command_ref("decisions"), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise")
    command: Mapped[CommandModel | None] = relationship(lazy="raise")
