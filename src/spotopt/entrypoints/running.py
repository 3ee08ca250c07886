"""Run one use case under the retry rule (house style §10, §11): shared by HTTP, the jobs and the CLI.

``run_in`` resolves the use case and its unit of work in an open REQUEST scope (HTTP: the one scope dishka's
middleware opens per request; a job: the scope of its run) and awaits the call under CC-5; ``run_in_new_scope``
first opens that scope from the container (a job's batch, a CLI command).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from dishka import AsyncContainer

from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.retry import STANDARD, RetryPolicy, run_retrying
from spotopt.bootstrap.failures import is_transient

U = TypeVar("U")
R = TypeVar("R")


async def run_in(
    scope: AsyncContainer, use_case: type[U], call: Callable[[U], Awaitable[R]], policy: RetryPolicy = STANDARD
) -> R:
    resolved = await scope.get(use_case)
    uow = await scope.get(UnitOfWork)
    return await run_retrying(uow, lambda: call(resolved), policy, transient=is_transient)


async def run_in_new_scope(
    container: AsyncContainer, use_case: type[U], call: Callable[[U], Awaitable[R]], policy: RetryPolicy = STANDARD
) -> R:
    async with container() as scope:
        return await run_in(scope, use_case, call, policy)
