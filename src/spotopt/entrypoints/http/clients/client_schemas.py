"""Wire shapes of C1 and C2 (api.md §5)."""

from __future__ import annotations

import msgspec

from spotopt.application.clients.get_client_summary import GetClientSummaryResult
from spotopt.entrypoints.http.wire import dt, num

MONEY_PLACES = 4  # §1.7: the wire shows at most 4 decimals of money


class ClientValidResponse(msgspec.Struct, kw_only=True):
    valid: bool
    client_id: str
    name: str
    email: str | None


class ClientSummaryResponse(msgspec.Struct, kw_only=True):
    id: str
    name: str
    email: str | None
    status: str
    is_active: bool
    plan: str
    max_agents: int
    agent_count: int
    agents_online: int
    primary_count: int
    standby_count: int
    kept_old_count: int
    total_savings: float
    savings_today: float
    last_heartbeat_at: str | None
    created_at: str


def summary_body(result: GetClientSummaryResult) -> ClientSummaryResponse:
    client, figures = result.client, result.figures
    if figures is None:
        raise RuntimeError("C2 reads the summary with its figures")
    counts = figures.counts
    return ClientSummaryResponse(
        id=client.client_id,
        name=client.name,
        email=client.email,
        status=client.status.value,
        is_active=client.is_active,
        plan=client.plan,
        max_agents=client.max_agents,
        agent_count=counts.agent_count,
        agents_online=counts.agents_online,
        primary_count=counts.primary_count,
        standby_count=counts.standby_count,
        kept_old_count=counts.kept_old_count,
        total_savings=num(figures.total_savings, MONEY_PLACES) or 0.0,
        savings_today=num(figures.savings_today, MONEY_PLACES) or 0.0,
        last_heartbeat_at=dt(counts.last_heartbeat_at),
        created_at=dt(client.created_at) or "",
    )
