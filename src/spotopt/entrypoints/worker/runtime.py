"""Running SAQ workers: as their own process (``spotopt worker``) or as a task beside the web app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.exceptions import RedisError
from saq import Worker

log = logging.getLogger("spotopt.jobs")

READY_TIMEOUT_SECONDS = 30.0


async def run_worker(settings: dict[str, Any]) -> None:
    """Run one worker until SIGINT or SIGTERM, then finish (or cancel, after the grace period) its jobs."""
    worker: Worker[Any] = Worker(**settings)
    await worker.queue.connect()
    try:
        await worker.start()
    finally:
        await _disconnect(worker)


@asynccontextmanager
async def background_worker(settings: dict[str, Any]) -> AsyncIterator[Worker[Any]]:
    """One worker as a task of the running event loop, started (container built) on entry and stopped on exit.

    The host process owns the signals: the worker installs no handlers of its own.
    """
    worker: Worker[Any] = Worker(**settings)
    worker.SIGNALS = []
    ready = asyncio.Event()

    async def started(_ctx: Any) -> None:
        ready.set()

    worker.startup = [*(worker.startup or []), started]
    await worker.queue.connect()
    task = asyncio.create_task(worker.start(), name="saq-worker")
    try:
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiting}, timeout=READY_TIMEOUT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if task.done():
            task.result()  # start-up failed: raise its error here
        if not ready.is_set():
            raise TimeoutError("the job worker did not start")
        yield worker
    finally:
        await worker.stop()
        await asyncio.gather(task, return_exceptions=True)
        await _disconnect(worker)


async def _disconnect(worker: Worker[Any]) -> None:
    # On Ctrl-C the whole process group is signalled: an embedded Valkey may already be gone.
    try:
        await worker.queue.disconnect()
    except (RedisError, OSError) as exc:
        log.warning("job queue closed uncleanly (%s)", type(exc).__name__)
