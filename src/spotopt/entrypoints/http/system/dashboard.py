"""SAQ's job-queue dashboard at ``/saq/``, for administrators only.

SAQ ships the UI (static files plus a small JSON API) with aiohttp and Starlette servers; neither runs inside
Litestar, so the same routes are served here natively. Access needs the admin token, either as
``Authorization: Bearer <token>`` or, so a browser can log in, as the password of HTTP Basic (any user name).
"""

from __future__ import annotations

import base64
import binascii
import gzip
from functools import cache
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect
from redis.exceptions import RedisError
from saq import Job, Queue
from saq.web.common import STATIC_PATH, job_dict, render

from spotopt.application.errors import AuthenticationError, ForbiddenError, NotFoundError, UnavailableError
from spotopt.application.system.authenticate import Authenticate, AuthenticateQuery, Realm
from spotopt.bootstrap.background import JobBackend
from spotopt.entrypoints.http.auth import AUTH_FAILURES, bearer_token
from spotopt.entrypoints.http.errors import ApiError
from spotopt.entrypoints.http.running import run_use_case

DASHBOARD_PATH = "/saq"
LOGIN_CHALLENGE = {"WWW-Authenticate": 'Basic realm="spotopt job queue", charset="UTF-8"'}
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}


def _basic_password(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    scheme, _, encoded = connection.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


async def dashboard_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Admin realm only; failures count towards the auth-failure limit like every other route (api.md §1.9)."""
    settings, limiter = connection.app.state.settings, connection.app.state.rate_limiter
    source = connection.client.host if connection.client else "unknown"
    blocked = limiter.is_blocked(AUTH_FAILURES, source, settings.auth_failure_limit)
    if blocked is not None:
        raise ApiError(429, "rate_limited", "Too many requests", headers={"Retry-After": str(blocked)})
    token = bearer_token(connection) or _basic_password(connection)
    query = AuthenticateQuery(token=token, realm=Realm.ADMIN)
    try:
        await run_use_case(connection, Authenticate, lambda uc: uc.execute(query))
    except AuthenticationError as exc:
        if exc.code == "invalid_token":
            limiter.hit(AUTH_FAILURES, source, settings.auth_failure_limit)
        raise ApiError(401, exc.code, exc.message, headers=LOGIN_CHALLENGE) from exc
    except ForbiddenError as exc:
        raise ApiError(403, exc.code, exc.message) from exc


async def _queue(request: Request[Any, Any, Any], name: str | None = None) -> Queue:
    backend = await request.state.dishka_container.get(JobBackend)
    if backend.queue is None:
        raise UnavailableError("job_queue")
    if name is not None and name != backend.queue.name:
        raise NotFoundError("Queue not found")
    queue: Queue = backend.queue
    return queue


async def _job(request: Request[Any, Any, Any], queue_name: str, key: str) -> Job:
    queue = await _queue(request, queue_name)
    try:
        job = await queue.job(key)
    except (RedisError, OSError) as exc:
        raise UnavailableError("job_queue") from exc
    if job is None:
        raise NotFoundError("Job not found")
    return job


@get(["/", "/queues/{queue:str}", "/queues/{queue:str}/jobs/{job:str}"], media_type="text/html")
async def page(request: Request[Any, Any, Any]) -> Response[str] | Redirect:
    if request.scope.get("raw_path", b"/") == DASHBOARD_PATH.encode():  # the UI's router knows home as "/saq/"
        return Redirect(DASHBOARD_PATH + "/")
    return Response(render(root_path=DASHBOARD_PATH), media_type="text/html")


@get("/api/queues")
async def all_queues(request: Request[Any, Any, Any]) -> dict[str, Any]:
    found = await _queue(request)
    try:
        return {"queues": [await found.info()]}
    except (RedisError, OSError) as exc:
        raise UnavailableError("job_queue") from exc


@get("/api/queues/{queue:str}")
async def one_queue(request: Request[Any, Any, Any], queue: FromPath[str]) -> dict[str, Any]:
    found = await _queue(request, queue)
    try:
        return {"queue": await found.info(jobs=True)}
    except (RedisError, OSError) as exc:
        raise UnavailableError("job_queue") from exc


@get("/api/queues/{queue:str}/jobs/{job:str}")
async def job_detail(request: Request[Any, Any, Any], queue: FromPath[str], job: FromPath[str]) -> dict[str, Any]:
    return {"job": job_dict(await _job(request, queue, job))}


@post("/api/queues/{queue:str}/jobs/{job:str}/retry", status_code=200)
async def retry_job(request: Request[Any, Any, Any], queue: FromPath[str], job: FromPath[str]) -> dict[str, Any]:
    await (await _job(request, queue, job)).retry("retried from the dashboard")
    return {}


@post("/api/queues/{queue:str}/jobs/{job:str}/abort", status_code=200)
async def abort_job(request: Request[Any, Any, Any], queue: FromPath[str], job: FromPath[str]) -> dict[str, Any]:
    await (await _job(request, queue, job)).abort("aborted from the dashboard")
    return {}


@cache
def _static(name: str) -> tuple[bytes, bool] | None:
    """File bytes and whether they are gzip-compressed (SAQ ships some assets only as ``.gz``)."""
    plain, packed = STATIC_PATH / name, STATIC_PATH / f"{name}.gz"
    if plain.is_file():
        return plain.read_bytes(), False
    if packed.is_file():
        return packed.read_bytes(), True
    return None


@get("/static/{name:str}", sync_to_thread=False)
def static(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    found = _static(name) if "/" not in name and not name.startswith(".") else None
    if found is None:
        raise NotFoundError("Not found")
    content, packed = found
    media_type = _MEDIA_TYPES.get("." + name.rsplit(".", 1)[-1], "application/octet-stream")
    if packed and "gzip" in request.headers.get("accept-encoding", ""):
        return Response(content, media_type=media_type, headers={"Content-Encoding": "gzip"})
    return Response(gzip.decompress(content) if packed else content, media_type=media_type)


saq_dashboard = Router(
    DASHBOARD_PATH,
    route_handlers=[page, all_queues, one_queue, job_detail, retry_job, abort_job, static],
    guards=[dashboard_guard],
    include_in_schema=False,
)
