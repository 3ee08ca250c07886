"""The model registry (DP-19 – DP-22, api A.12) and the stored policy documents (DP-17, DP-18).

Model versions are immutable apart from their status; the manifest is kept as the JSON it was validated as.
Pointer swaps lock the versions they move (``FOR UPDATE``) and are applied in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spotopt.adapters.persistence.models.base import Base
from spotopt.adapters.persistence.types import JSON, Id, Name, Text, UTCDateTime


class ModelSessionModel(Base):
    __tablename__ = "model_sessions"
    __table_args__ = (
        UniqueConstraint("label", name="uq_model_sessions_label"),
        Index("ix_model_sessions_created_at", "created_at"),
    )

    session_id: Mapped[str] = mapped_column(Id(), primary_key=True)
    label: Mapped[str] = mapped_column(Name(64), nullable=False)
    origin: Mapped[str] = mapped_column(Name(32), nullable=False)
    notes: Mapped[str | None] = mapped_column(Text(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ModelVersionModel(Base):
    __tablename__ = "model_versions"
    __table_args__ = (
        Index("ix_model_versions_status", "status"),
        Index("ix_model_versions_kind_content_hash", "kind", "content_hash"),
        Index("ix_model_versions_session_id", "session_id"),
    )

    kind: Mapped[str] = mapped_column(Name(32), primary_key=True)
    version_number: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    session_id: Mapped[str] = mapped_column(
        Id(),
        ForeignKey("model_sessions.session_id", ondelete="CASCADE", name="fk_model_versions_session_id_model_sessions"),
        nullable=False,
    )
    status: Mapped[str] = mapped_column(Name(32), nullable=False)
    content_hash: Mapped[str] = mapped_column(Name(64), nullable=False)
    file_name: Mapped[str] = mapped_column(Name(), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer(), nullable=False)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    session: Mapped[ModelSessionModel] = relationship(lazy="raise")


class PolicyDocumentModel(Base):
    __tablename__ = "policy_documents"
    __table_args__ = (Index("ix_policy_documents_status", "status"),)

    version_number: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    policy_version: Mapped[str] = mapped_column(Name(64), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(Name(32), nullable=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
