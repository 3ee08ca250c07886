"""Authentication and rate-limit guards (api.md §1.2, §1.9), run after route match and before body parsing.

The guard authenticates in the request's one REQUEST scope (its session), the same the use case runs in later.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from spotopt.application.errors import AuthenticationError, ForbiddenError
from spotopt.application.system.authenticate import Authenticate, AuthenticateQuery, Principal, Realm
from spotopt.application.system.record_auth_failure import RecordAuthFailure, RecordAuthFailureCommand
from spotopt.domain.shared.ids import ClientId
from spotopt.entrypoints.http.errors import ApiError
from spotopt.entrypoints.http.ratelimit import FixedWindowLimiter
from spotopt.entrypoints.http.running import run_use_case

AUTH_FAILURES = "auth_failures"
AUTH_FAILED_EVENT = "auth_failed_event"
SAMPLED_FAILURES = frozenset({"invalid_token", "client_inactive"})
log = logging.getLogger("spotopt.http")


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def _body_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    if connection.scope.get("method") not in {"POST", "PUT"} or not isinstance(connection, Request):
        return None
    raw = await connection.body()
    try:
        body = msgspec.json.decode(raw or b"{}")
    except msgspec.DecodeError as exc:
        raise ApiError(400, "malformed_json", "The request body is not valid JSON") from exc
    token = body.get("client_token") if isinstance(body, dict) else None
    return token if isinstance(token, str) else None


def _limiter(connection: ASGIConnection[Any, Any, Any, Any]) -> FixedWindowLimiter:
    return connection.app.state.rate_limiter  # type: ignore[no-any-return]


def _too_many(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        "Too many requests",
        headers={"Retry-After": str(retry_after)},
        retry_after_seconds=retry_after,
    )


async def _authenticate(connection: ASGIConnection[Any, Any, Any, Any], realm: Realm) -> Principal:
    settings = connection.app.state.settings
    source = connection.client.host if connection.client else "unknown"
    limiter = _limiter(connection)
    blocked = limiter.is_blocked(AUTH_FAILURES, source, settings.auth_failure_limit)
    if blocked is not None:
        raise _too_many(blocked)
    token = bearer_token(connection)
    if token is None and realm is Realm.CLIENT:
        token = await _body_token(connection)
    query = AuthenticateQuery(token=token, realm=realm)
    try:
        principal = await run_use_case(connection, Authenticate, lambda uc: uc.execute(query))
    except (AuthenticationError, ForbiddenError) as exc:
        if exc.code == "invalid_token":
            limiter.hit(AUTH_FAILURES, source, settings.auth_failure_limit)
        if exc.code in SAMPLED_FAILURES and limiter.hit(AUTH_FAILED_EVENT, source, 1) is None:
            await _record_failure(connection, source, exc.code)
        raise
    connection.state.principal = principal
    return principal


async def _record_failure(connection: ASGIConnection[Any, Any, Any, Any], source: str, reason: str) -> None:
    """§1.2: event ``auth_failed``, at most one per source address per minute, in its own (short) transaction of
    the request's session: the failed request itself writes nothing else.
    """
    command = RecordAuthFailureCommand(source_address=source, reason=reason, path=connection.url.path)
    try:
        await run_use_case(connection, RecordAuthFailure, lambda uc: uc.execute(command))
    except Exception:  # the 401/403 answer never depends on the audit trail
        log.warning("could not record auth_failed from %s", source, exc_info=True)


async def client_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    principal = await _authenticate(connection, Realm.CLIENT)
    bucket = handler.opt.get("rate_bucket", "agent")
    if bucket == "exempt":
        return
    settings = connection.app.state.settings
    limit = settings.agent_rate_limit if bucket == "agent" else settings.client_rate_limit
    retry = _limiter(connection).hit(bucket, str(principal.client_id), limit)
    if retry is not None:
        raise _too_many(retry)


def admin_identity(token: str) -> str:
    """The admin bucket's key (§1.9): a digest of the token, never the token nor a part two tokens could share."""
    return hashlib.sha256(token.encode()).hexdigest()


async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    await _authenticate(connection, Realm.ADMIN)
    identity = admin_identity(bearer_token(connection) or "")
    retry = _limiter(connection).hit("admin", identity, connection.app.state.settings.admin_rate_limit)
    if retry is not None:
        raise _too_many(retry)


def client_id_of(request: Request[Any, Any, Any]) -> ClientId:
    principal: Principal = request.state.principal
    assert principal.client_id is not None  # noqa: S101 - guaranteed by client_guard
    return principal.client_id
