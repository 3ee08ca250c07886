"""ASGI middleware: request ids on every response, and the body rules of api.md §1.1."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Every response carries ``X-Request-ID``: the inbound value when well-formed, else a new UUID."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        inbound = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = inbound if _REQUEST_ID.match(inbound) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


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


def make_body_middleware(max_bytes: int) -> Any:
    """Bodies over ``max_bytes`` → 413; non-JSON content → 415; an empty POST/PUT body reads as ``{}``."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
                await app(scope, receive, send)
                return
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > max_bytes:
                    await _send_error(send, 413, "payload_too_large", f"Request body exceeds {max_bytes} bytes")
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            if body.strip():
                content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1").lower()
                media = content_type.split(";")[0].strip()
                if media != "application/json" and not media.endswith("+json"):
                    await _send_error(send, 415, "unsupported_media_type", "Request bodies must be application/json")
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
