"""The Litestar application factory (used by production, tests and the ``litestar`` CLI)."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from dishka import AsyncContainer, Provider
from dishka.integrations.litestar import DishkaRouter, setup_dishka
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin

from spotopt.application.system.job_health import ServerStart
from spotopt.bootstrap.container import make_container
from spotopt.bootstrap.settings import Settings
from spotopt.entrypoints.http.agents.client_routes import ClientAgentController
from spotopt.entrypoints.http.agents.client_settings import ClientAgentSettingsController
from spotopt.entrypoints.http.agents.controller import AgentController
from spotopt.entrypoints.http.clients.admin_delete import AdminClientDeleteController
from spotopt.entrypoints.http.clients.admin_stats import AdminStatsController
from spotopt.entrypoints.http.clients.client_routes import ClientController
from spotopt.entrypoints.http.clients.controller import AdminController
from spotopt.entrypoints.http.commands.controller import CommandController
from spotopt.entrypoints.http.commands.force_switch import ForceSwitchController
from spotopt.entrypoints.http.commands.history_routes import SwitchHistoryController
from spotopt.entrypoints.http.decisions.client_routes import ClientDecisionController
from spotopt.entrypoints.http.decisions.controller import DecisionController
from spotopt.entrypoints.http.decisions.model_routes import ModelRegistryController
from spotopt.entrypoints.http.errors import exception_handlers
from spotopt.entrypoints.http.interruptions.controller import InterruptionController
from spotopt.entrypoints.http.ledger.controller import SavingsController
from spotopt.entrypoints.http.middleware import make_body_middleware, request_id_middleware, strict_json_body
from spotopt.entrypoints.http.notifications.controller import NotificationController
from spotopt.entrypoints.http.openapi import TruthfulOpenAPIConfig
from spotopt.entrypoints.http.pricing.client_routes import ClientPricingController
from spotopt.entrypoints.http.pricing.controller import PricingController
from spotopt.entrypoints.http.ratelimit import FixedWindowLimiter
from spotopt.entrypoints.http.replicas.client_routes import ClientReplicaController
from spotopt.entrypoints.http.replicas.controller import ReplicaController
from spotopt.entrypoints.http.system.admin_routes import AdminReadController
from spotopt.entrypoints.http.system.controller import health
from spotopt.entrypoints.http.system.dashboard import saq_dashboard

API_GROUPS = ("agent", "replica", "client", "notification", "admin")
DOCS_PATH = "/docs"


def route_handlers() -> list[Any]:
    return [
        AgentController,
        CommandController,
        PricingController,
        AdminController,
        DecisionController,
        ReplicaController,
        InterruptionController,
        saq_dashboard,
        ClientController,
        ClientAgentController,
        ClientDecisionController,
        ClientPricingController,
        ClientReplicaController,
        SavingsController,
        SwitchHistoryController,
        AdminStatsController,
        AdminReadController,
        ClientAgentSettingsController,
        ForceSwitchController,
        NotificationController,
        AdminClientDeleteController,
        ModelRegistryController,
    ]


def create_app(
    settings: Settings | None = None, *overrides: Provider, container: AsyncContainer | None = None
) -> Litestar:
    settings = settings or Settings.from_env()
    container = container or make_container(settings, *overrides)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncGenerator[None, None]:
        try:
            await container.get(ServerStart)  # H1: the start instant is taken when the server starts
            yield
        finally:
            await container.close()

    router = DishkaRouter("", route_handlers=route_handlers())
    openapi_config = TruthfulOpenAPIConfig(
        title="spotopt",
        version="1",
        description="Central server of the spotopt spot-instance optimizer (agent v4 compatible).",
        path=DOCS_PATH,
        render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
    )
    app = Litestar(
        route_handlers=[router, health],
        exception_handlers=exception_handlers,
        middleware=[make_body_middleware(settings.max_body_bytes)],
        before_request=strict_json_body,
        request_max_body_size=None,
        lifespan=[lifespan],
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins)) if settings.cors_origins else None,
        openapi_config=openapi_config,
        debug=False,
        logging_config=None,
    )
    setup_dishka(container, app)
    openapi_config.routes = lambda: app.routes  # the document is completed from this app's router (openapi.py)
    app.asgi_handler = request_id_middleware(app.asgi_handler)  # type: ignore[arg-type,assignment]
    app.state.settings = settings
    app.state.rate_limiter = FixedWindowLimiter()
    app.state.route_counts = _count_routes(app)
    logging.getLogger("spotopt").setLevel(logging.DEBUG if settings.debug else logging.INFO)
    return app


def _count_routes(app: Litestar) -> dict[str, int]:
    """H1: (method, path) routes actually registered under /api plus /health, and the API groups present."""
    total = 0
    groups: set[str] = set()
    for route in app.routes:
        if not (route.path.startswith("/api/") or route.path == "/health"):
            continue
        for handler in getattr(route, "route_handlers", []):
            methods = set(getattr(handler, "http_methods", set())) - {"HEAD", "OPTIONS"}
            total += len(methods)
            group = handler.opt.get("group")
            if group in API_GROUPS:
                groups.add(group)
    return {"total": total, "groups": len(groups)}
