"""Admin routes (``/api/admin``) needed to bootstrap a tenant: M1 create client, M3 rotate its token."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from dishka import FromDishka
from litestar import Controller, Response, post
from litestar.params import FromPath, JSONBody

from spotopt.application.use_cases.create_client import CreateClient, CreateClientCommand
from spotopt.application.use_cases.regenerate_client_token import (
    RegenerateClientToken,
    RegenerateClientTokenCommand,
)
from spotopt.domain.clients import Client
from spotopt.entrypoints.http.auth import admin_guard
from spotopt.entrypoints.http.wire import dt

SHOWN_ONCE = "Store this token now; it cannot be shown again"


class ClientCreateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
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


def client_response(client: Client, *, agent_count: int = 0, agents_online: int = 0) -> ClientResponse:
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
        total_savings=0.0,
        token_hint=client.token_hint,
        token_issued_at=dt(client.token_issued_at) or "",
        created_at=dt(client.created_at) or "",
        deleted_at=dt(client.deleted_at),
    )


class AdminController(Controller):
    path = "/api/admin"
    guards = [admin_guard]
    opt = {"group": "admin"}

    @post("/clients/create")
    async def create_client(
        self, data: JSONBody[ClientCreateRequest], use_case: FromDishka[CreateClient]
    ) -> Response[dict[str, Any]]:
        """M1: create a client; its token is shown once."""
        result = await use_case.execute(CreateClientCommand(**msgspec.structs.asdict(data)))
        body = {
            "success": True,
            "client": msgspec.to_builtins(client_response(result.client)),
            "client_token": result.token,
            "message": SHOWN_ONCE,
        }
        return Response(body, status_code=201)

    @post("/clients/{client_id:str}/regenerate-token", status_code=200)
    async def regenerate_token(
        self, client_id: FromPath[str], use_case: FromDishka[RegenerateClientToken]
    ) -> dict[str, Any]:
        """M3: rotate the client token; the previous one is rejected from the commit on."""
        result = await use_case.execute(RegenerateClientTokenCommand(client_id=client_id))
        return {
            "success": True,
            "client_id": result.client_id,
            "client_token": result.token,
            "token_hint": result.token_hint,
            "token_issued_at": dt(result.token_issued_at),
            "message": SHOWN_ONCE,
        }
