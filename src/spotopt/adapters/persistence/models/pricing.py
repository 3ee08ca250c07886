"""Pricing ingestion and the clean price store (domain §4).

Reports and submissions belong to the reporting agent. Fleet-wide market data (pools, on-demand prices and
observations, buckets, interpolation records) keeps its provenance (``source_submission_id``, ``agent_id``, ...)
as plain values: that data outlives the rows it names (buckets 730 days, submissions 30, §7.3), and clearing the
provenance on every purge would rewrite thousands of bucket rows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spotopt.adapters.persistence.models.agents import AgentModel, owned_by_agent
from spotopt.adapters.persistence.models.base import Base
from spotopt.adapters.persistence.types import JSON, Id, Name, Price, Ratio, UTCDateTime


class PricingReportModel(Base):
    """PR-1: as received."""

    __tablename__ = "pricing_reports"
    __table_args__ = (
        owned_by_agent("pricing_reports"),
        Index("ix_pricing_reports_agent_id_received_at", "agent_id", "received_at"),
        Index("ix_pricing_reports_client_id_instance_id", "client_id", "instance_id"),
        Index("ix_pricing_reports_client_id_received_at", "client_id", "received_at"),  # C14 pages
    )

    report_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    client_id: Mapped[str] = mapped_column(Id(), nullable=False)
    agent_id: Mapped[str] = mapped_column(Id(), nullable=False)
    instance_id: Mapped[str] = mapped_column(Id(), nullable=False)
    instance_type: Mapped[str] = mapped_column(Name(), nullable=False)
    region: Mapped[str] = mapped_column(Name(), nullable=False)
    az: Mapped[str] = mapped_column(Name(), nullable=False)
    mode: Mapped[str] = mapped_column(Name(), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    pool_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    on_demand_price: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    current_spot_price: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    cheapest_pool_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    cheapest_pool_price: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    pool_count: Mapped[int] = mapped_column(Integer(), nullable=False)
    pools_rejected: Mapped[int] = mapped_column(Integer(), nullable=False)
    spot_pools: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    collected_at_raw: Mapped[str | None] = mapped_column(Name(), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise")


class PricingSubmissionModel(Base):
    """PR-3: append-only, unique by id (MD-1); a report's submissions go with it (same ``received_at``)."""

    __tablename__ = "pricing_submissions"
    __table_args__ = (
        owned_by_agent("pricing_submissions"),
        Index("ix_pricing_submissions_processed_at_received_at", "processed_at", "received_at"),
        Index("ix_pricing_submissions_pool_id_observed_at", "pool_id", "observed_at"),
    )

    submission_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    pool_id: Mapped[str] = mapped_column(Id(), nullable=False)
    instance_type: Mapped[str] = mapped_column(Name(), nullable=False)
    region: Mapped[str] = mapped_column(Name(), nullable=False)
    az: Mapped[str] = mapped_column(Name(), nullable=False)
    spot_price: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    source_type: Mapped[str] = mapped_column(Name(32), nullable=False)
    agent_id: Mapped[str] = mapped_column(Id(), nullable=False)
    instance_id: Mapped[str] = mapped_column(Id(), nullable=False)
    client_id: Mapped[str] = mapped_column(Id(), nullable=False)
    report_id: Mapped[str] = mapped_column(
        Id(),
        ForeignKey(
            "pricing_reports.report_id", ondelete="CASCADE", name="fk_pricing_submissions_report_id_pricing_reports"
        ),
        nullable=False,
    )
    is_valid: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    validation_flags: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    ondemand_price: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(Name(), nullable=True)

    agent: Mapped[AgentModel] = relationship(lazy="raise")
    report: Mapped[PricingReportModel] = relationship(lazy="raise")


class SpotPoolModel(Base):
    """PR-32 catalogue (fleet-wide)."""

    __tablename__ = "spot_pools"
    __table_args__ = (Index("ix_spot_pools_instance_type_region", "instance_type", "region"),)

    pool_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    instance_type: Mapped[str] = mapped_column(Name(), nullable=False)
    region: Mapped[str] = mapped_column(Name(), nullable=False)
    az: Mapped[str] = mapped_column(Name(), nullable=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class OnDemandPriceModel(Base):
    """PR-27: the current price per (type, region)."""

    __tablename__ = "ondemand_prices"

    instance_type: Mapped[str] = mapped_column(Name(), primary_key=True)
    region: Mapped[str] = mapped_column(Name(), primary_key=True)
    price: Mapped[Decimal] = mapped_column(Price(), nullable=False)
    source: Mapped[str] = mapped_column(Name(), nullable=False)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    observation_count: Mapped[int] = mapped_column(Integer(), nullable=False)


class OnDemandObservationModel(Base):
    """PR-27/PR-28 history (an agent's estimate never becomes a current price, so no catalogue reference)."""

    __tablename__ = "ondemand_observations"
    __table_args__ = (Index("ix_ondemand_observations_instance_type_region", "instance_type", "region"),)

    observation_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    instance_type: Mapped[str] = mapped_column(Name(), nullable=False)
    region: Mapped[str] = mapped_column(Name(), nullable=False)
    price: Mapped[Decimal] = mapped_column(Price(), nullable=False)
    source: Mapped[str] = mapped_column(Name(), nullable=False)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    is_valid: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    flags: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    agent_id: Mapped[str | None] = mapped_column(Id(), nullable=True)


class PriceBucketModel(Base):
    """PR-11, one per ``(pool_id, bucket_start)`` (MD-2); a pool is purged only once it has no buckets (§7.3)."""

    __tablename__ = "price_buckets"
    __table_args__ = (
        Index("ix_price_buckets_instance_type_region_bucket_start", "instance_type", "region", "bucket_start"),
        Index("ix_price_buckets_fill_id", "fill_id"),
    )

    pool_id: Mapped[str] = mapped_column(
        Id(),
        ForeignKey("spot_pools.pool_id", ondelete="RESTRICT", name="fk_price_buckets_pool_id_spot_pools"),
        primary_key=True,
    )
    instance_type: Mapped[str] = mapped_column(Name(), nullable=False)
    region: Mapped[str] = mapped_column(Name(), nullable=False)
    az: Mapped[str] = mapped_column(Name(), nullable=False)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    spot_price: Mapped[Decimal] = mapped_column(Price(), nullable=False)
    source_type: Mapped[str] = mapped_column(Name(32), nullable=False)
    confidence: Mapped[Decimal] = mapped_column(Ratio(), nullable=False)
    data_source: Mapped[str] = mapped_column(Name(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ondemand_price: Mapped[Decimal | None] = mapped_column(Price(), nullable=True)
    savings_percent: Mapped[Decimal | None] = mapped_column(Numeric(16, 2, asdecimal=True), nullable=True)
    interpolation_method: Mapped[str | None] = mapped_column(Name(32), nullable=True)
    source_submission_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    source_agent_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    source_instance_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    fill_id: Mapped[str | None] = mapped_column(Id(), nullable=True)
    observation_count: Mapped[int] = mapped_column(Integer(), nullable=False)
    discrepancy: Mapped[bool] = mapped_column(Boolean(), nullable=False)

    pool: Mapped[SpotPoolModel] = relationship(lazy="raise")


class InterpolationRecordModel(Base):
    """PR-19 audit trail of a fill; it goes with its pool (which outlives it, §7.3)."""

    __tablename__ = "interpolation_records"
    __table_args__ = (
        Index("ix_interpolation_records_pool_id_bucket_start", "pool_id", "bucket_start"),
        Index("ix_interpolation_records_fill_id", "fill_id"),
    )

    record_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    pool_id: Mapped[str] = mapped_column(
        Id(),
        ForeignKey("spot_pools.pool_id", ondelete="CASCADE", name="fk_interpolation_records_pool_id_spot_pools"),
        nullable=False,
    )
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    fill_id: Mapped[str] = mapped_column(Id(), nullable=False)
    method: Mapped[str] = mapped_column(Name(32), nullable=False)
    confidence: Mapped[Decimal] = mapped_column(Ratio(), nullable=False)
    n: Mapped[int] = mapped_column(Integer(), nullable=False)
    t_b: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    p_b: Mapped[Decimal] = mapped_column(Price(), nullable=False)
    t_a: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    p_a: Mapped[Decimal] = mapped_column(Price(), nullable=False)
    result: Mapped[Decimal] = mapped_column(Price(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    neighbours: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    peers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    pool: Mapped[SpotPoolModel] = relationship(lazy="raise")
