"""Pricing route A6 (``/api/agents``): map the request, run one use case, map the result."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import FromPath, JSONBody

from spotopt.application.pricing.record_pricing_report import RecordPricingReport
from spotopt.entrypoints.http.auth import client_guard, client_id_of
from spotopt.entrypoints.http.pricing.schemas import (
    PricingReportRequest,
    PricingReportResponse,
    to_command,
    to_response,
)
from spotopt.entrypoints.http.running import run_use_case

Req = Request[Any, Any, Any]


class PricingController(Controller):
    path = "/api/agents"
    guards = [client_guard]
    opt = {"group": "agent", "rate_bucket": "agent"}

    @post("/{agent_id:str}/pricing-report", status_code=200)
    async def pricing_report(
        self, request: Req, agent_id: FromPath[str], data: JSONBody[PricingReportRequest]
    ) -> PricingReportResponse:
        """A6: ingest spot and on-demand prices (invalid pool items are flagged, never a 400; PR-5)."""
        command = to_command(client_id_of(request), agent_id, data)
        result = await run_use_case(request, RecordPricingReport, lambda uc: uc.execute(command))
        return to_response(result)
