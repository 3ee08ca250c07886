"""Tenants (domain §2.1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spotopt.adapters.persistence.models.base import Base
from spotopt.adapters.persistence.types import Id, Name, UTCDateTime


class ClientModel(Base):
    __tablename__ = "clients"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_clients_token_hash"),
        UniqueConstraint("name_key", name="uq_clients_name_key"),
        UniqueConstraint("email", name="uq_clients_email"),
    )

    client_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    name: Mapped[str] = mapped_column(Name(), nullable=False)
    email: Mapped[str | None] = mapped_column(Name(), nullable=True)
    token_hash: Mapped[str] = mapped_column(Name(), nullable=False)
    token_hint: Mapped[str] = mapped_column(Name(), nullable=False)
    token_issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    status: Mapped[str] = mapped_column(Name(32), nullable=False)
    max_agents: Mapped[int] = mapped_column(Integer(), nullable=False)
    plan: Mapped[str] = mapped_column(Name(), nullable=False)
    default_auto_switch_enabled: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    default_auto_terminate_enabled: Mapped[bool] = mapped_column(Boolean(), nullable=False)
    default_terminate_wait_seconds: Mapped[int] = mapped_column(Integer(), nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Case-insensitive unique name: the lower-cased name, set by the mapper.
    name_key: Mapped[str | None] = mapped_column(Name(), nullable=True)
