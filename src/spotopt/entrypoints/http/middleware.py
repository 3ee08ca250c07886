"""ASGI middleware and a request hook: request ids on every response, and the body rules of api.md §1.1, §1.4."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from spotopt.entrypoints.http.errors import ApiError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("spotopt.http.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_JSON_UTF8 = b"application/json; charset=utf-8"
NO_UNKNOWN_FIELDS = {"client", "notification", "admin"}  # §1.4: C*, N*, M* reject unknown body fields
# §1.1: only M14 takes multipart/form-data, with its own body limit (100 MiB).
MULTIPART_ROUTES = {"/api/admin/ml-models/upload": 100 * 1024 * 1024}


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Every response carries ``X-Request-ID``: the inbound value when well-formed, else a new UUID; JSON
    responses say ``charset=utf-8`` (§1.1; Litestar sends bare ``application/json``).
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        inbound = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = inbound if _REQUEST_ID.match(inbound) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                _access(scope, message["status"], started, request_id)
                headers = [
                    (k, _JSON_UTF8 if k.lower() == b"content-type" and v == b"application/json" else v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


def _access(scope: Scope, status: int, started: float, request_id: str) -> None:
    """One line per request (house style: request logging happens once, here): method, path without the query,
    status, time and request id. Never headers or bodies, so never a token (§1.2).
    """
    elapsed_ms = (time.perf_counter() - started) * 1000
    access_log.debug("%s %s %s %.1fms request_id=%s", scope["method"], scope["path"], status, elapsed_ms, request_id)


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": message, "status_code": status, "detail": {"code": code}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _wrong_media(scope: Scope, *, multipart: bool) -> str | None:
    content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1").lower()
    media = content_type.split(";")[0].strip()
    if multipart:
        return None if media == "multipart/form-data" else "This route takes multipart/form-data"
    if media != "application/json" and not media.endswith("+json"):
        return "Request bodies must be application/json"
    return None


def make_body_middleware(max_bytes: int) -> Any:
    """Bodies over ``max_bytes`` → 413; non-JSON content → 415; an empty POST/PUT body reads as ``{}``."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
                await app(scope, receive, send)
                return
            multipart_limit = MULTIPART_ROUTES.get(scope["path"].rstrip("/"))
            limit = multipart_limit or max_bytes
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await _send_error(send, 413, "payload_too_large", f"Request body exceeds {limit} bytes")
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            if body.strip():
                wrong = _wrong_media(scope, multipart=multipart_limit is not None)
                if wrong is not None:
                    await _send_error(send, 415, "unsupported_media_type", wrong)
                    return
            else:
                body = b"{}"
                scope["headers"] = [
                    (k, v) for k, v in scope["headers"] if k not in (b"content-length", b"content-type")
                ]
                scope["headers"].extend([(b"content-type", b"application/json"), (b"content-length", b"2")])
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if sent:
                    return await receive()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            await app(scope, replay, send)

        return middleware

    return factory


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """§1.1, §1.4, run after the guards and before the handler: a POST/PUT body is well-formed JSON (first), one
    object, converted strictly into the route's body type. Litestar converts leniently (``"true"``/``1`` → true,
    ``"1.5"`` → 1.5), and routes without a body type would otherwise accept any bytes.
    """
    if request.method not in {"POST", "PUT"}:
        return
    handler = request.route_handler
    if handler.opt.get("multipart"):  # M14 parses its own multipart body
        return
    field = handler.parsed_fn_signature.parameters.get("data")
    try:
        raw = msgspec.json.decode(await request.body() or b"{}")
    except msgspec.DecodeError as exc:
        raise ApiError(400, "malformed_json", "The request body is not valid JSON") from exc
    try:
        msgspec.convert(_integral(raw), field.annotation if field else dict[str, Any], strict=True)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `$")
        raise ValidationException(extra=[{"key": path.strip("`.") or "data", "message": message}]) from exc
    if field is None and raw and handler.opt.get("group") in NO_UNKNOWN_FIELDS:
        unknown = f"Object contains unknown field `{next(iter(raw))}`"
        raise ValidationException(extra=[{"key": "data", "message": unknown}])


def _integral(value: Any) -> Any:
    """§1.4 "integers have no fractional part" is read as JSON Schema reads it: ``5.0`` is the integer 5 (a
    generated client may write it so); ``5.5`` is still no integer, and ``"5"`` no number.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value
