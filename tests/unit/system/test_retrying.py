"""CC-5 at the entrypoint: lock contention re-runs the use case in a fresh scope, at most 3 times, inside the
emergency budget (EP-4, pitfall 11); anything else propagates at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, cast

import pytest
from litestar import Request
from sqlalchemy.exc import OperationalError

from spotopt.application.errors import ConflictError, LockContentionError
from spotopt.entrypoints.http.retrying import RetryPolicy, is_retryable, run_retrying

FAST = RetryPolicy(min_jitter_s=0.0, max_jitter_s=0.001)


class FlakyUseCase:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.calls = 0

    async def execute(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


class StubContainer:
    """A dishka container stand-in: every call opens a new scope that resolves the one use case."""

    def __init__(self, use_case: FlakyUseCase) -> None:
        self.use_case = use_case
        self.scopes = 0

    @asynccontextmanager
    async def __call__(self, _context: object) -> AsyncIterator[Any]:
        self.scopes += 1

        async def get(_: type) -> FlakyUseCase:
            return self.use_case

        yield SimpleNamespace(get=get)


def request_with(container: StubContainer) -> Request[Any, Any, Any]:
    return cast(
        "Request[Any, Any, Any]",
        SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(dishka_container=container))),
    )


async def run(use_case: FlakyUseCase, policy: RetryPolicy = FAST) -> tuple[str, StubContainer]:
    container = StubContainer(use_case)
    result = await run_retrying(request_with(container), FlakyUseCase, lambda uc: uc.execute(), policy)
    return result, container


def deadlock() -> OperationalError:
    return OperationalError("SELECT ... FOR UPDATE", {}, Exception(1213, "Deadlock found when trying to get lock"))


async def test_cc5_lock_contention_is_retried_in_a_fresh_scope_up_to_3_times() -> None:
    use_case = FlakyUseCase([LockContentionError(), deadlock(), LockContentionError()])
    result, container = await run(use_case)
    assert (result, use_case.calls, container.scopes) == ("done", 4, 4)


async def test_cc5_after_3_retries_the_lock_error_surfaces() -> None:
    use_case = FlakyUseCase([LockContentionError() for _ in range(4)])
    with pytest.raises(LockContentionError):
        await run(use_case)
    assert use_case.calls == 4


async def test_cc5_business_errors_are_never_retried() -> None:
    use_case = FlakyUseCase([ConflictError("no", code="replica_exists")])
    with pytest.raises(ConflictError):
        await run(use_case)
    assert use_case.calls == 1


async def test_ep4_pitfall11_the_emergency_budget_caps_the_retries() -> None:
    use_case = FlakyUseCase([LockContentionError(), LockContentionError()])
    with pytest.raises(LockContentionError):
        await run(use_case, RetryPolicy(min_jitter_s=0.01, max_jitter_s=0.01, budget_s=0.005))
    assert use_case.calls == 1


@pytest.mark.parametrize(("code", "retryable"), [(1213, True), (1205, True), (3572, True), (1062, False)])
def test_cc5_mysql_deadlock_and_lock_wait_codes_are_retryable(code: int, retryable: bool) -> None:
    error = OperationalError("stmt", {}, Exception(code, "message"))
    assert is_retryable(error) is retryable
