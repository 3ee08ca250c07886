"""M2 ``DELETE /api/admin/clients/{client_id}``: deactivate a client and delete its agents (CL-6)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, delete
from litestar.params import FromPath

from spotopt.application.clients.delete_client import DeleteClient, DeleteClientCommand
from spotopt.entrypoints.http.auth import admin_guard
from spotopt.entrypoints.http.running import run_use_case

Req = Request[Any, Any, Any]


class ClientDeletedResponse(msgspec.Struct, kw_only=True):
    success: bool
    client_id: str
    status: str
    agents_deleted: int


class AdminClientDeleteController(Controller):
    path = "/api/admin"
    guards = [admin_guard]
    opt = {"group": "admin"}

    @delete("/clients/{client_id:str}", status_code=200)
    async def delete_client(self, request: Req, client_id: FromPath[str]) -> ClientDeletedResponse:
        """M2: ``inactive``, token revoked, every agent deleted as C8; a repeat answers ``agents_deleted`` 0."""
        command = DeleteClientCommand(client_id=client_id)
        result = await run_use_case(request, DeleteClient, lambda uc: uc.execute(command))
        return ClientDeletedResponse(
            success=True, client_id=result.client_id, status="inactive", agents_deleted=result.agents_deleted
        )
