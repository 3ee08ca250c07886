"""Wire shape of H1 ``/health``."""

from __future__ import annotations

import msgspec


class HealthComponents(msgspec.Struct, kw_only=True):
    database: str
    decision_engine: str
    endpoints_total: int
    endpoints_active: int
    blueprints_registered: int
    background_jobs: str


class HealthResponse(msgspec.Struct, kw_only=True):
    status: str
    service: str
    version: str
    architecture: str
    migration_progress: str
    components: HealthComponents
