"""H1 ``GET /health``."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from litestar import Request, Response, get

from spotopt.application.system.get_health import GetHealth
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.system.schemas import HealthComponents, HealthResponse


@get("/health", opt={"public": True})
async def health(request: Request[Any, Any, Any]) -> Response[HealthResponse]:
    report = await run_use_case(request, GetHealth, lambda uc: uc.execute())
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
