"""Controllers run their use case in the request's one REQUEST scope, under the retry rule (CC-5).

dishka's middleware opens that scope (one session) per request; the auth guard resolves ``Authenticate`` from it
first, so the guard and the use case share the session and its pooled connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from dishka import AsyncContainer
from litestar.connection import ASGIConnection

from spotopt.application.retry import STANDARD, RetryPolicy
from spotopt.entrypoints.running import run_in

U = TypeVar("U")
R = TypeVar("R")


def request_scope(connection: ASGIConnection[Any, Any, Any, Any]) -> AsyncContainer:
    scope: AsyncContainer = connection.state.dishka_container
    return scope


async def run_use_case(
    connection: ASGIConnection[Any, Any, Any, Any],
    use_case: type[U],
    call: Callable[[U], Awaitable[R]],
    policy: RetryPolicy = STANDARD,
) -> R:
    return await run_in(request_scope(connection), use_case, call, policy)
