"""H1 ``GET /health``."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import msgspec
from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Request, Response, get

from spotopt.application.use_cases.get_health import GetHealth


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


@get("/health", opt={"public": True})
@inject
async def health(request: Request[Any, Any, Any], use_case: FromDishka[GetHealth]) -> Response[HealthResponse]:
    report = await use_case.execute()
    counts = request.app.state.route_counts
    body = HealthResponse(
        status=report.status,
        service="spotopt",
        version=version("spotopt"),
        architecture="hexagonal",
        migration_progress="100%",
        components=HealthComponents(
            database=report.database,
            decision_engine=report.decision_engine,
            endpoints_total=counts["total"],
            endpoints_active=counts["total"],
            blueprints_registered=counts["groups"],
            background_jobs=report.background_jobs,
        ),
    )
    return Response(body, status_code=200 if report.database == "ok" else 503)
