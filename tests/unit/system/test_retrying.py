"""CC-5, the one retry rule (``application.retry``): lock contention re-runs the use case in a fresh transaction of
the same unit of work, at most 3 times, after 10-100 ms of jitter, inside the emergency budget (EP-4, pitfall 11);
anything else propagates at once. ``bootstrap.failures.is_transient`` says which driver errors count.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from spotopt.application.errors import ConflictError, LockContentionError, UnavailableError
from spotopt.application.retry import EMERGENCY, STANDARD, RetryPolicy, run_retrying
from spotopt.bootstrap.failures import is_transient
from tests.fakes.uow import InMemoryUnitOfWork


class FlakyUseCase:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.calls = 0

    async def execute(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


class Timeline:
    """A monotonic clock that only moves when the rule sleeps; records the pauses."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


async def run(
    use_case: FlakyUseCase, uow: InMemoryUnitOfWork, policy: RetryPolicy = STANDARD, timeline: Timeline | None = None
) -> str:
    timeline = timeline or Timeline()
    return await run_retrying(
        uow, use_case.execute, policy, transient=is_transient, sleep=timeline.sleep, monotonic=timeline.monotonic
    )


def deadlock(code: int = 1213) -> OperationalError:
    return OperationalError("SELECT ... FOR UPDATE", {}, Exception(code, "Deadlock found when trying to get lock"))


async def test_cc5_lock_contention_is_retried_up_to_3_times_rolling_back_between_attempts() -> None:
    use_case = FlakyUseCase([LockContentionError(), deadlock(), LockContentionError()])

    uow, timeline = InMemoryUnitOfWork(), Timeline()

    result = await run(use_case, uow, timeline=timeline)

    assert (result, use_case.calls, uow.rollbacks) == ("done", 4, 3)
    assert len(timeline.pauses) == 3
    assert all(0.010 <= pause <= 0.100 for pause in timeline.pauses)


async def test_cc5_after_3_retries_the_lock_error_surfaces() -> None:
    use_case = FlakyUseCase([LockContentionError() for _ in range(4)])

    with pytest.raises(LockContentionError):
        await run(use_case, InMemoryUnitOfWork())

    assert use_case.calls == 4


@pytest.mark.parametrize(
    "error",
    [
        ConflictError("no", code="replica_exists"),
        UnavailableError("database"),  # a failed COMMIT may have committed: never re-run
        IntegrityError("INSERT", {}, Exception(1062, "Duplicate entry")),
    ],
)
async def test_cc5_business_errors_and_failed_commits_are_never_retried(error: Exception) -> None:
    use_case, uow = FlakyUseCase([error]), InMemoryUnitOfWork()

    with pytest.raises(type(error)):
        await run(use_case, uow)

    assert (use_case.calls, uow.rollbacks) == (1, 0)


async def test_ep4_pitfall11_the_emergency_budget_caps_the_retries() -> None:
    use_case = FlakyUseCase([LockContentionError() for _ in range(4)])
    timeline = Timeline()
    policy = RetryPolicy(min_jitter_s=0.5, max_jitter_s=0.5, budget_s=EMERGENCY.budget_s)

    with pytest.raises(LockContentionError):
        await run(use_case, InMemoryUnitOfWork(), policy, timeline)

    assert use_case.calls == 2  # 0.5 s slept; a second pause would end past the 0.8 s budget
    assert timeline.pauses == [0.5]


def test_ep4_the_emergency_budget_stays_inside_one_second() -> None:
    assert EMERGENCY.budget_s is not None
    assert EMERGENCY.budget_s + EMERGENCY.max_jitter_s <= 1.0
    assert (EMERGENCY.retries, STANDARD.retries, STANDARD.budget_s) == (3, 3, None)


@pytest.mark.parametrize(("code", "retryable"), [(1213, True), (1205, True), (3572, True), (1062, False)])
def test_cc5_mysql_deadlock_and_lock_wait_codes_are_transient(code: int, retryable: bool) -> None:
    assert is_transient(deadlock(code)) is retryable


def test_a_statement_that_found_its_connection_dead_is_transient() -> None:
    lost = OperationalError("SELECT 1", {}, Exception(2013, "Lost connection to server during query"))
    lost.connection_invalidated = True

    assert is_transient(lost)
    assert not is_transient(OperationalError("SELECT 1", {}, Exception(2013, "Lost connection")))
