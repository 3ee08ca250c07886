"""The one table mapping exceptions to JSON error bodies (api.md §1.5). Never HTML, SQL or stack traces."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from spotopt.application.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnavailableError,
)
from spotopt.bootstrap.failures import unavailable_dependency
from spotopt.domain.shared.errors import (
    DomainError,
    InvalidValueError,
    RuleConflictError,
    SettingDisabledError,
    UnusableTargetError,
)

log = logging.getLogger("spotopt.http")

_STATUS: list[tuple[type[DomainError], int]] = [
    (InvalidValueError, 400),
    (AuthenticationError, 401),
    (ForbiddenError, 403),
    (SettingDisabledError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (RuleConflictError, 409),
    (UnusableTargetError, 422),
]


class ErrorDetail(msgspec.Struct, kw_only=True):
    """``detail`` of every error: always a ``code``; other keys are listed per route (§1.5)."""

    code: Annotated[str, msgspec.Meta(pattern="^[a-z][a-z0-9_]*$", description="Stable snake_case error code")]


class ErrorBody(msgspec.Struct, kw_only=True):
    """The one error body of api.md §1.5 (what :func:`error_response` sends), documented on every operation."""

    error: Annotated[str, msgspec.Meta(description="Human-readable message")]
    status_code: Annotated[int, msgspec.Meta(ge=400, le=599)]
    detail: ErrorDetail


class ApiError(Exception):
    """An HTTP-level error raised by the entrypoint itself (validation, limits, content type)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **detail: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.detail = detail


def error_response(
    status: int, code: str, message: str, /, *, headers: dict[str, str] | None = None, **detail: Any
) -> Response[dict[str, Any]]:
    """A §1.5 error body; ``detail`` keys may be anything, ``status`` and ``code`` included (e.g. R3, R4)."""
    body = {"error": message, "status_code": status, "detail": {"code": code, **detail}}
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _domain(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 409)
    return error_response(status, exc.code, exc.message, **exc.detail)


def _api(_: Request[Any, Any, Any], exc: ApiError) -> Response[dict[str, Any]]:
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers, **exc.detail)


_FIELD_REASONS = {"Object missing required field": "is required", "Object contains unknown field": "is not allowed"}


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    items = exc.extra if isinstance(exc.extra, list) else []
    first = items[0] if items and isinstance(items[0], dict) else {}
    field = str(first.get("key") or "body")
    reason = str(first.get("message") or "invalid value")
    if field == "data":
        field = "body"
        reason = "must be a JSON object" if "array" in reason or "Expected" in reason else reason
    if reason.startswith("'") and reason.endswith("'"):
        reason = "is required"
    for prefix, plain in _FIELD_REASONS.items():
        if reason.startswith(prefix):
            named = reason.split("`")[1] if "`" in reason else ""
            field = f"{field}.{named}" if field != "body" and named else (named or field)
            reason = plain
    return error_response(400, "validation_error", f"Invalid {field}: {reason}", field=field, reason=reason)


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(exc, NotFoundException):
        return error_response(404, "not_found", "Not found")
    if isinstance(exc, MethodNotAllowedException):
        allow = ", ".join(sorted(allowed_methods(request)))
        return error_response(405, "method_not_allowed", "Method not allowed", headers={"Allow": allow})
    if isinstance(exc, ClientException) and "JSON is malformed" in str(exc.detail):
        return error_response(400, "malformed_json", "The request body is not valid JSON")
    if exc.status_code == 413:
        return error_response(413, "payload_too_large", "Request body too large")
    if exc.status_code == 415:
        return error_response(415, "unsupported_media_type", "Unsupported media type")
    if exc.status_code < 500:
        return error_response(exc.status_code, "bad_request", str(exc.detail))
    return _internal(request, exc)


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    dependency = unavailable_dependency(exc)
    if isinstance(exc, UnavailableError):
        dependency = exc.dependency
    if dependency is not None:
        cause = getattr(exc, "orig", None) or exc.__cause__
        code = getattr(cause, "args", ("",))[0] if cause is not None else ""
        log.warning("dependency unavailable: %s (%s %s)", dependency, type(exc).__name__, code)
        return error_response(
            503, "unavailable", "Service temporarily unavailable", dependency=dependency, retryable=True
        )
    request_id = request.scope.get("state", {}).get("request_id", "")
    log.exception("unhandled error (request %s)", request_id, exc_info=exc)
    return error_response(
        HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "Internal server error", request_id=request_id
    )


def allowed_methods(request: Request[Any, Any, Any]) -> set[str]:
    path = request.url.path.rstrip("/") or "/"
    matches: list[tuple[tuple[bool, ...], set[str]]] = []
    for route in request.app.routes:
        template = route.path.rstrip("/") or "/"
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            literal = tuple(not part.startswith("{") for part in template.split("/"))
            matches.append((literal, set(getattr(route, "methods", set()))))
    # §1.1 path precedence: a literal segment wins over a parameter (``/clients/create`` is never an id).
    best = max((literal for literal, _ in matches), default=())
    methods = {m for literal, found in matches if literal == best for m in found}
    methods.discard("HEAD")
    return methods or {"GET"}


exception_handlers: dict[type[Exception] | int, Any] = {
    DomainError: _domain,
    ApiError: _api,
    ValidationException: _validation,
    HTTPException: _http,
    UnavailableError: _internal,
    Exception: _internal,
}
