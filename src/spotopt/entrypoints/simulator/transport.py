"""HTTP as agent v4 does it (python-requests: 30 s timeout, one try, no retry, W06), with bounded concurrency.

The fleet shares one connection pool of ``concurrency`` connections. A call first waits for a free slot (the
simulator's bound, reported separately as client wait), then its latency is measured from sending to the last
byte of the answer.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from spotopt.entrypoints.simulator.protocol import headers
from spotopt.entrypoints.simulator.recorder import NO_ANSWER, Recorder

AGENT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any  # decoded JSON, or None (no answer, or not JSON: a failure for agent v4, W04)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 and self.body is not None


class AgentWire:
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
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout, transport=transport)
        self._slots = asyncio.Semaphore(concurrency)
        self._recorder = recorder
        self._started = started

    async def call(self, route: str, method: str, path: str, token: str, body: object = None) -> Answer:
        """One agent call. GETs carry no body (W02); POST/PUT carry JSON."""
        content = None if body is None else msgspec.json.encode(body)
        queued = time.perf_counter()
        async with self._slots:
            sent = time.perf_counter()
            status, decoded, error = await self._send(method, path, token, content)
            done = time.perf_counter()
        self._recorder.request(
            route,
            status,
            (done - sent) * 1000,
            (sent - queued) * 1000,
            asyncio.get_running_loop().time() - self._started,
            error,
        )
        return Answer(status, decoded)

    async def _send(self, method: str, path: str, token: str, content: bytes | None) -> tuple[int, Any, str | None]:
        try:
            response = await self._client.request(method, path, headers=headers(token), content=content)
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
        await self._client.aclose()
