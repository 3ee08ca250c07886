"""C16 ``POST /api/client/instances/{instance_id}/force-switch``: a manual switch (origin ``manual``)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from litestar import Controller, Request, Response, post
from litestar.params import FromPath, JSONBody

from spotopt.application.commands.force_switch import ForceSwitch, ForceSwitchCommand, target_label
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.entrypoints.http.auth import client_guard, client_id_of
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.schema_rules import POOL_ID_PATTERN, at_least_one_of
from spotopt.entrypoints.http.wire import text
from spotopt.entrypoints.http.wire_objects import command_body

Req = Request[Any, Any, Any]
PoolName = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=POOL_ID_PATTERN)]


class ForceSwitchRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``target`` | ``target_mode`` and ``pool_id`` | ``target_pool_id``: the first-listed name wins (§1.4)."""

    openapi_extra: ClassVar[dict[str, Any]] = at_least_one_of("target", "target_mode")

    target: Literal["ondemand", "spot", "pool"] | None = None
    target_mode: Literal["ondemand", "spot"] | None = None
    pool_id: PoolName | None = None
    target_pool_id: PoolName | None = None
    new_instance_type: text(64, 1) | None = None  # type: ignore[valid-type]
    reason: text(500) | None = None  # type: ignore[valid-type]
    idempotency_key: text(64, 1) | None = None  # type: ignore[valid-type]
    client_token: str | None = None


def force_switch_command(request: Req, instance_id: str, data: ForceSwitchRequest) -> ForceSwitchCommand:
    target = data.target or data.target_mode
    if target is None:
        raise InvalidValueError("target", "is required")
    return ForceSwitchCommand(
        client_id=client_id_of(request),
        instance_id=instance_id,
        target=target,
        pool_id=data.pool_id if data.pool_id is not None else data.target_pool_id,
        new_instance_type=data.new_instance_type,
        reason=data.reason,
        idempotency_key=data.idempotency_key,
    )


class ForceSwitchController(Controller):
    path = "/api/client/instances"
    guards = [client_guard]
    opt = {"group": "client", "rate_bucket": "client"}

    @post("/{instance_id:str}/force-switch")
    async def force_switch(
        self, request: Req, instance_id: FromPath[str], data: JSONBody[ForceSwitchRequest]
    ) -> Response[dict[str, Any]]:
        """C16: queue a manual switch of the agent whose primary is ``instance_id`` (201; 200 on a CM-7 replay)."""
        command = force_switch_command(request, instance_id, data)
        result = await run_use_case(request, ForceSwitch, lambda uc: uc.execute(command))
        body = {
            "success": True,
            "created": result.created,
            "command": command_body(result.command),
            "message": f"Force switch to {target_label(result.command)} queued",
        }
        return Response(body, status_code=201 if result.created else 200)
