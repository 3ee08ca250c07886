"""The savings ledger and its snapshots (domain §5).

Ledger entries follow their own retention (§7.3: 400 days after they close, and only once their day has a final
snapshot), so nothing may delete them implicitly: the agent and the instance an entry names stay (``RESTRICT``)
until the entry is purged. Snapshots belong to their client.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, ForeignKeyConstraint, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spotopt.adapters.persistence.models.agents import AgentModel, InstanceModel, owned_by_agent
from spotopt.adapters.persistence.models.base import Base
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.adapters.persistence.types import JSON, Hours, Id, Money, Name, Percent, Price, Ratio, UTCDateTime


class LedgerEntryModel(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        owned_by_agent("ledger_entries", ondelete="RESTRICT"),
        ForeignKeyConstraint(
            ("client_id", "instance_id"),
            ("instances.client_id", "instances.instance_id"),
            ondelete="RESTRICT",
            name="fk_ledger_entries_client_id_instances",
        ),
        # IN-8/LG-1: at most one open entry per instance.
        UniqueConstraint("client_id", "open_key", name="uq_ledger_entries_client_id_open_key"),
        Index("ix_ledger_entries_client_id_started_at", "client_id", "started_at"),
        Index("ix_ledger_entries_agent_id_ended_at", "agent_id", "ended_at"),
        Index("ix_ledger_entries_client_id_instance_id", "client_id", "instance_id"),
    )

    entry_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    client_id: Mapped[str] = mapped_column(Id(), nullable=False)
    agent_id: Mapped[str] = mapped_column(Id(), nullable=False)
    instance_id: Mapped[str] = mapped_column(Id(), nullable=False)
    role: Mapped[str] = mapped_column(Name(32), nullable=False)
    mode: Mapped[str] = mapped_column(Name(32), nullable=False)
    pool_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    instance_type: Mapped[str] = mapped_column(Name(), nullable=False)
    region: Mapped[str] = mapped_column(Name(), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # LedgerPrice (a value object), flattened.
    price: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    price_bucket_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    price_confidence: Mapped[Decimal | None] = mapped_column(Ratio(), nullable=True)
    price_flags: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    baseline: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    hours: Mapped[Decimal | None] = mapped_column(Hours(), nullable=True)
    cost: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    baseline_cost: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    savings: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Name(32), nullable=True)
    end_unconfirmed: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    # The instance id while the entry is open, NULL once closed (set by the mapper).
    open_key: Mapped[str | None] = mapped_column(Id(), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise", overlaps="instance")
    instance: Mapped[InstanceModel] = relationship(lazy="raise", overlaps="agent")


def _client_ref(table: str) -> ForeignKey:
    return ForeignKey("clients.client_id", ondelete="CASCADE", name=f"fk_{table}_client_id_clients")


class _SnapshotFigures:
    """§5.3 figures (``SnapshotFigures``), flattened into the columns of both savings snapshots."""

    baseline_cost: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    primary_cost: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    overhead_cost: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    actual_cost: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    savings: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    savings_percent: Mapped[Decimal | None] = mapped_column(Percent(), nullable=True)
    primary_hours: Mapped[Decimal] = mapped_column(Hours(), nullable=False)
    spot_hours: Mapped[Decimal] = mapped_column(Hours(), nullable=False)
    ondemand_hours: Mapped[Decimal] = mapped_column(Hours(), nullable=False)
    standby_hours: Mapped[Decimal] = mapped_column(Hours(), nullable=False)
    kept_old_hours: Mapped[Decimal] = mapped_column(Hours(), nullable=False)
    unpriced_hours: Mapped[Decimal] = mapped_column(Hours(), nullable=False)
    priced_primary_hours: Mapped[Decimal] = mapped_column(Hours(), nullable=False)
    coverage: Mapped[Decimal | None] = mapped_column(Ratio(), nullable=True)
    switch_count: Mapped[int] = mapped_column(Integer(), nullable=False)
    failover_count: Mapped[int] = mapped_column(Integer(), nullable=False)


class SavingsDailyModel(_SnapshotFigures, Base):
    __tablename__ = "savings_daily"
    __table_args__ = (Index("ix_savings_daily_day", "day"),)

    client_id: Mapped[str] = mapped_column(Id(), _client_ref("savings_daily"), primary_key=True)
    day: Mapped[date] = mapped_column(Date(), primary_key=True)
    instance_count: Mapped[int] = mapped_column(Integer(), nullable=False)
    final: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    client: Mapped[ClientModel] = relationship(lazy="raise")


class SavingsMonthlyModel(_SnapshotFigures, Base):
    __tablename__ = "savings_monthly"

    client_id: Mapped[str] = mapped_column(Id(), _client_ref("savings_monthly"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer(), primary_key=True)
    month: Mapped[int] = mapped_column(Integer(), primary_key=True)
    days: Mapped[int] = mapped_column(Integer(), nullable=False)
    final: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    client: Mapped[ClientModel] = relationship(lazy="raise")


class ClientGrowthModel(Base):
    """Fleet-wide, one row per day."""

    __tablename__ = "client_growth_daily"

    day: Mapped[date] = mapped_column(Date(), primary_key=True)
    total_clients: Mapped[int] = mapped_column(Integer(), nullable=False)
    new_clients: Mapped[int] = mapped_column(Integer(), nullable=False)
    active_clients: Mapped[int | None] = mapped_column(Integer(), nullable=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
