"""Wire shapes of the admin client routes (M1, M3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar

import msgspec

from spotopt.domain.clients.client import Client
from spotopt.entrypoints.http.wire import dt, num

SHOWN_ONCE = "Store this token now; it cannot be shown again"


class ClientCreateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    openapi_extra: ClassVar[dict[str, Any]] = {"properties": {"email": {"pattern": "^[^@]+@[^@]+$"}}}  # CL-1

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Annotated[str, msgspec.Meta(max_length=254)] | None = None
    max_agents: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 5
    plan: Annotated[str, msgspec.Meta(max_length=32)] = "free"
    default_auto_switch_enabled: bool = True
    default_auto_terminate_enabled: bool = True
    default_terminate_wait_seconds: Annotated[int, msgspec.Meta(ge=30, le=3600)] = 300


class ClientResponse(msgspec.Struct, kw_only=True):
    id: str
    name: str
    email: str | None
    status: str
    is_active: bool
    plan: str
    max_agents: int
    default_auto_switch_enabled: bool
    default_auto_terminate_enabled: bool
    default_terminate_wait_seconds: int
    agent_count: int
    agents_online: int
    total_savings: float
    token_hint: str
    token_issued_at: str
    created_at: str
    deleted_at: str | None


def client_response(
    client: Client, *, agent_count: int = 0, agents_online: int = 0, total_savings: Decimal = Decimal(0)
) -> ClientResponse:
    return ClientResponse(
        id=client.client_id,
        name=client.name,
        email=client.email,
        status=client.status.value,
        is_active=client.is_active,
        plan=client.plan,
        max_agents=client.max_agents,
        default_auto_switch_enabled=client.default_auto_switch_enabled,
        default_auto_terminate_enabled=client.default_auto_terminate_enabled,
        default_terminate_wait_seconds=client.default_terminate_wait_seconds,
        agent_count=agent_count,
        agents_online=agents_online,
        total_savings=num(total_savings, 4) or 0.0,
        token_hint=client.token_hint,
        token_issued_at=dt(client.token_issued_at) or "",
        created_at=dt(client.created_at) or "",
        deleted_at=dt(client.deleted_at),
    )
