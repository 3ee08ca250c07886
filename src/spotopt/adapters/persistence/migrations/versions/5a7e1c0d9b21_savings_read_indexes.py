"""savings read indexes

Revision ID: 5a7e1c0d9b21
Revises: b7d41c2e9a35
Create Date: 2026-12-08 01:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "5a7e1c0d9b21"
down_revision: str | None = "b7d41c2e9a35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interruption_episodes", schema=None) as batch_op:
        batch_op.create_index("ix_interruption_episodes_client_id_closed_at", ["client_id", "closed_at"], unique=False)

    with op.batch_alter_table("switches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_switches_client_id_received_at_origin", ["client_id", "received_at", "origin"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("switches", schema=None) as batch_op:
        batch_op.drop_index("ix_switches_client_id_received_at_origin")
    with op.batch_alter_table("interruption_episodes", schema=None) as batch_op:
        batch_op.drop_index("ix_interruption_episodes_client_id_closed_at")
