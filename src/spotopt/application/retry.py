"""CC-5, the one contention-retry rule, used by every entrypoint (HTTP, jobs, CLI).

A deadlock or lock-wait timeout is retried up to 3 times after a 10-100 ms jitter. Between attempts the unit of
work is rolled back and the use case runs again in the same session: a fresh transaction that re-reads (and
re-locks) what it needs. Emergency paths (R8, R9, A10) also cap the whole call, retries included, so the answer
stays inside EP-4's 1 s (pitfall 11); their row-lock waits are bounded by the use case itself. When the retries
are exhausted the last error propagates (HTTP answers it 503 ``unavailable`` with ``retryable: true``).

Which errors are transient is the caller's to say: the application knows ``LockContentionError``; the
composition root adds the driver-level ones (a raw deadlock, a connection found dead on first use).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from spotopt.application.errors import LockContentionError
from spotopt.application.ports.uow import UnitOfWork

R = TypeVar("R")
Transient = Callable[[BaseException], bool]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 3
    min_jitter_s: float = 0.010
    max_jitter_s: float = 0.100
    budget_s: float | None = None  # the whole call, retries included; None = no cap beyond the retry count


STANDARD = RetryPolicy()
EMERGENCY = RetryPolicy(budget_s=0.8)


def is_lock_contention(exc: BaseException) -> bool:
    return isinstance(exc, LockContentionError)


async def run_retrying(
    uow: UnitOfWork,
    attempt: Callable[[], Awaitable[R]],
    policy: RetryPolicy = STANDARD,
    *,
    transient: Transient = is_lock_contention,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> R:
    """Await ``attempt`` (one use-case call) and re-run it after a transient failure (CC-5).

    Anything not transient propagates at once, so business-rule errors are never retried.
    """
    started = monotonic()
    retried = 0
    while True:
        try:
            return await attempt()
        except Exception as exc:
            pause = random.uniform(policy.min_jitter_s, policy.max_jitter_s)  # noqa: S311 - jitter, not security
            over_budget = policy.budget_s is not None and monotonic() - started + pause > policy.budget_s
            if not transient(exc) or retried >= policy.retries or over_budget:
                raise
        await uow.rollback()
        retried += 1
        await sleep(pause)
