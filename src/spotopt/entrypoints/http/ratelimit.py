"""Fixed-window rate limits per credential and per source address (api.md §1.9), in process memory.

Why not Litestar's ``RateLimitConfig``: its middleware runs before routing's guards, keyed by what it can see of
the raw request, so it would answer 429 before authentication; §1.5 puts authentication (step 3, with the
failed-auth limit per source address before any token lookup) ahead of the per-credential limit (step 4), and
§1.9 keys that limit by the authenticated identity, per realm bucket, with exempt signal routes (R8, R9, A10).
The guards in ``auth.py`` call this limiter at exactly those points; the 429 is the §1.5 JSON body with
``Retry-After`` and ``detail.retry_after_seconds``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class FixedWindowLimiter:
    window_seconds: int = 60
    _counts: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    def hit(self, bucket: str, key: str, limit: int) -> int | None:
        """Count one request; returns seconds to wait when over ``limit``, else None."""
        now = int(time.monotonic())
        window = now // self.window_seconds
        current_window, count = self._counts.get((bucket, key), (window, 0))
        if current_window != window:
            count = 0
        count += 1
        self._counts[(bucket, key)] = (window, count)
        if len(self._counts) > 100_000:
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
        if count > limit:
            return max(1, (window + 1) * self.window_seconds - now)
        return None

    def is_blocked(self, bucket: str, key: str, limit: int) -> int | None:
        now = int(time.monotonic())
        window = now // self.window_seconds
        current_window, count = self._counts.get((bucket, key), (window, 0))
        if current_window == window and count >= limit:
            return max(1, (window + 1) * self.window_seconds - now)
        return None
