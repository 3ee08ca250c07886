"""HTTP as agent v4 does it (python-requests: 30 s timeout, one try, no retry, W06), with bounded concurrency.

The fleet shares ``concurrency`` connections. A call first waits for a free slot (the simulator's bound, reported
separately as client wait), then its latency is measured from sending to the last byte of the answer.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from spotopt.entrypoints.simulator.protocol import headers
from spotopt.entrypoints.simulator.recorder import NO_ANSWER, Recorder

AGENT_TIMEOUT_SECONDS = 30.0
SHARD = 16


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any  # decoded JSON, or None (no answer, or not JSON: a failure for agent v4, W04)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 and self.body is not None


class AgentWire:
    """Agent v4's 30 s timeout counts from the moment the agent sends, so here from the moment a call asks for a
    slot: a call still waiting for a slot when it runs out is "no answer" (``timeout (queued)``) and never sent.

    The pool is split into shards of ``SHARD`` connections (httpx's pool scheduling grows with its size).
    """

    def __init__(
        self,
        base_url: str,
        recorder: Recorder,
        *,
        concurrency: int,
        started: float,
        timeout: float = AGENT_TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        shards = max(1, -(-concurrency // SHARD))
        size = -(-concurrency // shards)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self._shards = [
            (
                httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout, transport=transport),
                asyncio.Semaphore(size),
            )
            for _ in range(shards)
        ]
        self._next = itertools.cycle(range(shards))
        self._timeout = timeout
        self._recorder = recorder
        self._started = started

    async def call(self, route: str, method: str, path: str, token: str, body: object = None) -> Answer:
        """One agent call. GETs carry no body (W02); POST/PUT carry JSON."""
        content = None if body is None else msgspec.json.encode(body)
        client, slots = self._shards[next(self._next)]
        queued = time.perf_counter()
        sent: float | None = None
        try:
            async with asyncio.timeout(self._timeout), slots:
                sent = time.perf_counter()
                status, decoded, error = await self._send(client, method, path, token, content)
        except TimeoutError:
            status, decoded, error = NO_ANSWER, None, "timeout" if sent is not None else "timeout (queued)"
        done = time.perf_counter()
        sent = done if sent is None else sent
        at = asyncio.get_running_loop().time() - self._started
        self._recorder.request(route, status, (done - sent) * 1000, (sent - queued) * 1000, at, error)
        return Answer(status, decoded)

    async def _send(
        self, client: httpx.AsyncClient, method: str, path: str, token: str, content: bytes | None
    ) -> tuple[int, Any, str | None]:
        try:
            response = await client.request(method, path, headers=headers(token), content=content)
        except httpx.TimeoutException:
            return NO_ANSWER, None, "timeout"
        except httpx.TransportError as exc:
            return NO_ANSWER, None, type(exc).__name__
        try:
            decoded = msgspec.json.decode(response.content) if response.content else {}
        except msgspec.DecodeError:
            decoded = None
        return response.status_code, decoded, None

    async def close(self) -> None:
        for client, _ in self._shards:
            await client.aclose()
