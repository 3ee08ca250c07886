"""CC-5 in one place: re-run a use case in a fresh transaction when the database reports lock contention.

Each attempt opens its own dishka REQUEST scope (so its own session and transaction); a deadlock or lock-wait
timeout is retried up to 3 times after a 10-100 ms jitter. Emergency routes (R8, R9, A10) also cap the total time
so that the answer stays inside EP-4's 1 s (pitfall 11); their row lock waits are bounded by the use case.
Exhausted retries surface as 503 ``unavailable`` with ``retryable: true`` (errors.py).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from dishka import AsyncContainer
from litestar import Request

from spotopt.application.errors import LockContentionError
from spotopt.bootstrap.failures import is_lock_contention

U = TypeVar("U")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 3
    min_jitter_s: float = 0.010
    max_jitter_s: float = 0.100
    budget_s: float | None = None  # the whole call, retries included; None = no cap beyond the retry count


STANDARD = RetryPolicy()
EMERGENCY = RetryPolicy(budget_s=0.8)


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, LockContentionError) or is_lock_contention(exc)


async def run_retrying(
    request: Request[Any, Any, Any],
    use_case: type[U],
    call: Callable[[U], Awaitable[R]],
    policy: RetryPolicy = STANDARD,
) -> R:
    """Resolve ``use_case`` in a fresh REQUEST scope and await ``call`` on it, retrying lock contention (CC-5)."""
    container: AsyncContainer = request.app.state.dishka_container
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            async with container({Request: request}) as scope:
                return await call(await scope.get(use_case))
        except Exception as exc:
            pause = random.uniform(policy.min_jitter_s, policy.max_jitter_s)  # noqa: S311 - jitter, not security
            over_budget = policy.budget_s is not None and time.monotonic() - started + pause > policy.budget_s
            if not is_retryable(exc) or attempt >= policy.retries or over_budget:
                raise
        attempt += 1
        await asyncio.sleep(pause)
