"""What a fleet run saw: every request (route, status, latency), notable events, and every acknowledged write.

Status 0 stands for "no answer" (timeout or connection error), which agent v4 treats like any non-2xx (W04).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

NO_ANSWER = 0
TIMELINE_SECONDS = 10


@dataclass(slots=True)
class RouteStats:
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    observed_ms: list[float] = field(default_factory=list)  # client-side wait for a connection slot + latency

    @property
    def count(self) -> int:
        return sum(self.statuses.values())


@dataclass(slots=True)
class Recorder:
    routes: dict[str, RouteStats] = field(default_factory=lambda: defaultdict(RouteStats))
    events: Counter[str] = field(default_factory=Counter)
    failover_ms: list[float] = field(default_factory=list)
    timeline: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    no_answer: Counter[str] = field(default_factory=Counter)

    def request(
        self, route: str, status: int, latency_ms: float, waited_ms: float, at: float, error: str | None = None
    ) -> None:
        """One call: ``at`` is loop seconds since the run started (for the 10 s timeline)."""
        stats = self.routes[route]
        stats.statuses[status] += 1
        stats.latencies_ms.append(latency_ms)
        stats.observed_ms.append(waited_ms + latency_ms)
        bucket = self.timeline[int(at // TIMELINE_SECONDS)]
        bucket["requests"] += 1
        if not 200 <= status < 300:
            bucket[str(status)] += 1
        if error is not None:
            self.no_answer[error] += 1

    def event(self, name: str, count: int = 1) -> None:
        self.events[name] += count

    def failover(self, failover_ms: float | None) -> None:
        self.events["failover_promoted"] += 1
        if failover_ms is not None:
            self.failover_ms.append(failover_ms)


class AckLog:
    """Acknowledged writes, one JSON object a line, for ``spotopt simulate --reconcile`` (the SIGKILL test).

    A write counts as acknowledged when the server answered it with a 2xx: agent v4 sends it once and never again,
    so from then on the database must hold it.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.count = 0
        self._file: IO[str] | None = path.open("w", encoding="utf-8") if path is not None else None

    def write(self, kind: str, **fields: object) -> None:
        self.count += 1
        if self._file is not None:
            line = {"kind": kind, "at": datetime.now(UTC).isoformat(), **fields}
            self._file.write(json.dumps(line, separators=(",", ":")) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
