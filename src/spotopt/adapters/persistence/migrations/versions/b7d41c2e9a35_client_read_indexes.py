"""client read indexes (C10, C14, C17 pages)

Revision ID: b7d41c2e9a35
Revises: cbbfff2be657
Create Date: 2026-12-08 01:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b7d41c2e9a35"
down_revision: str | None = "cbbfff2be657"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = [
    ("ix_instances_client_id_first_seen_at", "instances", ["client_id", "first_seen_at"]),
    ("ix_replicas_client_id_created_at", "replicas", ["client_id", "created_at"]),
    ("ix_pricing_reports_client_id_received_at", "pricing_reports", ["client_id", "received_at"]),
]


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(op.f(name), table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(_INDEXES):
        op.drop_index(op.f(name), table_name=table)
