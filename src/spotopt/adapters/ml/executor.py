"""A bounded executor for model inference (house style §12): its own threads, a cap on work in flight, and a
deadline per call. Work that misses its deadline keeps its slot until its thread finishes, so a stuck model can
never pile up unbounded work.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")


class InferenceBusyError(Exception):
    """Every slot is taken: the caller scores with the rule estimator instead (DP-3)."""


class InferenceTimeoutError(Exception):
    """The call missed its deadline (DP-3 budget); its thread may still be running."""


class InferenceExecutor:
    def __init__(self, workers: int = 2, queued: int = 6) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="spotopt-inference")
        self._slots = threading.BoundedSemaphore(workers + queued)
        self._closed = False

    async def run(self, fn: Callable[[], _T], seconds: float) -> _T:
        """``fn()`` on an inference thread; ``InferenceBusyError`` when no slot is free, ``InferenceTimeoutError``
        after ``seconds``.
        """
        if self._closed or not self._slots.acquire(blocking=False):
            raise InferenceBusyError
        try:
            future = self._pool.submit(fn)
        except RuntimeError:  # shut down concurrently
            self._slots.release()
            raise InferenceBusyError from None
        future.add_done_callback(lambda _: self._slots.release())
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), seconds)
        except TimeoutError:
            raise InferenceTimeoutError from None

    def close(self) -> None:
        """Stop accepting work and drop queued calls; running ones finish on their own."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
