"""Model registry and policy routes M14 – M18 (``/api/admin``, admin realm): map, run one use case, map back."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import JSONBody

from spotopt.application.decisions.activate_fallback_models import ActivateFallbackModels
from spotopt.application.decisions.activate_model_session import ActivateModelSession, ActivateModelSessionCommand
from spotopt.application.decisions.list_model_sessions import ListModelSessions, ListModelSessionsQuery
from spotopt.application.decisions.upload_model_session import UploadModelSession
from spotopt.application.decisions.upload_policy_document import UploadPolicyDocument, UploadPolicyDocumentCommand
from spotopt.domain.decisions.models import ModelStatus
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.entrypoints.http.auth import admin_guard
from spotopt.entrypoints.http.decisions.model_schemas import (
    ActivateRequest,
    parse_manifest,
    session_body,
    swap_body,
    upload_command,
)
from spotopt.entrypoints.http.errors import ApiError
from spotopt.entrypoints.http.queries import CommaList, Limit, Offset, comma_list
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.wire import dt

Req = Request[Any, Any, Any]
_STATUSES = frozenset(s.value for s in ModelStatus)


class ModelRegistryController(Controller):
    path = "/api/admin"
    guards = [admin_guard]
    opt = {"group": "admin"}

    @post("/ml-models/upload", opt={"multipart": True})
    async def upload_models(self, request: Req) -> Response[dict[str, Any]]:
        """M14: validate and register a session of candidate models; 201 created, 200 for a repeated upload."""
        if request.content_type[0] != "multipart/form-data":
            raise ApiError(415, "unsupported_media_type", "This route takes multipart/form-data")
        manifest, files = await _read_form(request)
        command = upload_command(parse_manifest(manifest), files)
        result = await run_use_case(request, UploadModelSession, lambda uc: uc.execute(command))
        body = {
            "success": True,
            "created": result.created,
            "session": session_body(result.session),
            "message": "Validated; activate the session to make it live",
        }
        return Response(body, status_code=201 if result.created else 200)

    @post("/ml-models/activate", status_code=200)
    async def activate_models(self, request: Req, data: JSONBody[ActivateRequest]) -> dict[str, Any]:
        """M15: the session's versions go live in one pointer swap (DP-20); the live session again → no change."""
        command = ActivateModelSessionCommand(session_id=data.chosen())
        result = await run_use_case(request, ActivateModelSession, lambda uc: uc.execute(command))
        return swap_body(result)

    @post("/ml-models/fallback", status_code=200)
    async def fallback_models(self, request: Req) -> dict[str, Any]:
        """M16: every kind's fallback goes live again, the previous live retires (DP-20)."""
        result = await run_use_case(request, ActivateFallbackModels, lambda uc: uc.execute())
        return swap_body(result)

    @get("/ml-models/sessions")
    async def list_sessions(
        self, request: Req, status: CommaList = None, limit: Limit = 50, offset: Offset = 0
    ) -> dict[str, Any]:
        """M17: sessions newest first, paged; trained candidates have origin ``trained``."""
        statuses = frozenset(ModelStatus(s) for s in comma_list("status", status, _STATUSES))
        query = ListModelSessionsQuery(statuses=statuses, limit=limit, offset=offset)
        page = await run_use_case(request, ListModelSessions, lambda uc: uc.execute(query))
        return {"sessions": [session_body(s) for s in page.sessions], "total": page.total}

    @post("/decision-engine/upload")
    async def upload_policy(self, request: Req, data: JSONBody[dict[str, Any]]) -> Response[dict[str, Any]]:
        """M18: a new policy document version, validated (never code) and activated; identical → 200."""
        command = UploadPolicyDocumentCommand(document=data)
        result = await run_use_case(request, UploadPolicyDocument, lambda uc: uc.execute(command))
        body = {
            "success": True,
            "policy_version": result.policy.policy_version,
            "engine_kind": result.policy.engine_kind.value,
            "policy": result.policy.to_mapping(),
            "activated_at": dt(result.activated_at),
            "previous_policy_version": result.previous_policy_version,
            "warnings": list(result.warnings),
        }
        return Response(body, status_code=201 if result.created else 200)


async def _read_form(request: Req) -> tuple[bytes | str, dict[str, bytes]]:
    form = await request.form()
    manifest: bytes | str | None = None
    files: dict[str, bytes] = {}
    for key, value in form.multi_items():
        if key == "manifest":
            if manifest is not None:
                raise InvalidValueError("manifest", "must be sent once")
            manifest = await value.read() if isinstance(value, UploadFile) else str(value)
        elif key == "files":
            if not isinstance(value, UploadFile) or not value.filename:
                raise InvalidValueError("files", "each part must be a file with a name")
            if value.filename in files:
                raise InvalidValueError("files", f"{value.filename} is sent twice")
            files[value.filename] = await value.read()
        else:
            raise InvalidValueError(key, "unknown part")
    if manifest is None:
        raise InvalidValueError("manifest", "is required")
    if not files:
        raise InvalidValueError("files", "at least one .cbm file is required")
    return manifest, files
