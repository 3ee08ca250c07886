"""Admin routes (``/api/admin``) needed to bootstrap a tenant: M1 create client, M3 rotate its token."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, post
from litestar.params import FromPath, JSONBody

from spotopt.application.clients.create_client import CreateClient, CreateClientCommand
from spotopt.application.clients.regenerate_client_token import RegenerateClientToken, RegenerateClientTokenCommand
from spotopt.entrypoints.http.auth import admin_guard
from spotopt.entrypoints.http.clients.schemas import SHOWN_ONCE, ClientCreateRequest, client_response
from spotopt.entrypoints.http.openapi import documented
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.wire import dt

Req = Request[Any, Any, Any]


class AdminController(Controller):
    path = "/api/admin"
    guards = [admin_guard]
    opt = {"group": "admin"}

    @post("/clients/create", responses=documented(409))
    async def create_client(self, request: Req, data: JSONBody[ClientCreateRequest]) -> Response[dict[str, Any]]:
        """M1: create a client; its token is shown once."""
        command = CreateClientCommand(**msgspec.structs.asdict(data))
        result = await run_use_case(request, CreateClient, lambda uc: uc.execute(command))
        body = {
            "success": True,
            "client": msgspec.to_builtins(client_response(result.client, total_savings=result.total_savings)),
            "client_token": result.token,
            "message": SHOWN_ONCE,
        }
        return Response(body, status_code=201)

    @post("/clients/{client_id:str}/regenerate-token", status_code=200)
    async def regenerate_token(self, request: Req, client_id: FromPath[str]) -> dict[str, Any]:
        """M3: rotate the client token; the previous one is rejected from the commit on."""
        command = RegenerateClientTokenCommand(client_id=client_id)
        result = await run_use_case(request, RegenerateClientToken, lambda uc: uc.execute(command))
        return {
            "success": True,
            "client_id": result.client_id,
            "client_token": result.token,
            "token_hint": result.token_hint,
            "token_issued_at": dt(result.token_issued_at),
            "message": SHOWN_ONCE,
        }
