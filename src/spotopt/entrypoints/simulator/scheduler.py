"""One timer heap for the whole fleet: 10,000 agents × 8 workers are heap entries, not sleeping tasks.

A due entry runs as its own task (agent v4 runs each worker in its own thread, so one agent's calls overlap,
W07); the task reschedules its worker when it is done, as agent v4's ``sleep(interval)`` loop does.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Awaitable, Callable

Job = Callable[[], Awaitable[None]]


class Scheduler:
    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.started = self._loop.time()
        self._heap: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.failures: list[BaseException] = []

    def now(self) -> float:
        """Seconds since the run started."""
        return self._loop.time() - self.started

    def at(self, when: float, job: Job) -> None:
        """Run ``job`` at ``when`` seconds since the start (at once if that has passed)."""
        entry = (when, next(self._order), job)
        heapq.heappush(self._heap, entry)
        if self._heap[0] is entry:
            self._wake.set()

    def after(self, delay: float, job: Job) -> None:
        self.at(self.now() + max(0.0, delay), job)

    async def run(self, until: float) -> None:
        """Start due jobs until ``until`` seconds since the start; jobs due later are dropped."""
        while True:
            now = self.now()
            while self._heap and self._heap[0][0] <= now:
                _, _, job = heapq.heappop(self._heap)
                task = asyncio.create_task(self._guard(job))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if now >= until:
                return
            next_due = self._heap[0][0] if self._heap else until
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, min(next_due, until) - now))

    async def _guard(self, job: Job) -> None:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a simulator bug must not stop the fleet; it is reported
            self.failures.append(exc)

    async def drain(self, grace: float) -> int:
        """Let running jobs finish for ``grace`` seconds, then cancel the rest; returns how many were cancelled."""
        self._heap.clear()
        pending = set(self._tasks)
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
            return len(still)
        return 0
