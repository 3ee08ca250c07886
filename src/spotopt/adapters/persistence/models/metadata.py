"""The schema: every model imported, so ``metadata`` holds every table (Alembic, test cleanup)."""

from __future__ import annotations

from spotopt.adapters.persistence.models import (  # noqa: F401 - importing declares the tables
    agents,
    clients,
    commands,
    decisions,
    interruptions,
    ledger,
    model_registry,
    notifications,
    pricing,
    replicas,
    system,
    webhooks,
)
from spotopt.adapters.persistence.models.base import Base

metadata = Base.metadata
