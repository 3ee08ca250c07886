"""``TokenCache`` in this process's memory: a dict of digest → (client id, expiry) on a monotonic clock.

The bound is per process: entries expire ``ttl_seconds`` after they were read from the database, so a token rotated
or a client deactivated by another process stops authenticating here within that time. Changes committed through
this process evict at once (``adapters.persistence.client_changes``). ``ttl_seconds = 0`` disables the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from spotopt.domain.shared.ids import ClientId

DEFAULT_TTL_SECONDS = 5.0
MAX_ENTRIES = 50_000


class InProcessTokenCache:
    def __init__(
        self,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._monotonic = monotonic
        self._max_entries = max_entries
        self._entries: dict[str, tuple[ClientId, float]] = {}

    def get(self, digest: str) -> ClientId | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        client_id, expires = entry
        if self._monotonic() >= expires:
            self._entries.pop(digest, None)
            return None
        return client_id

    def put(self, digest: str, client_id: ClientId) -> None:
        if self.ttl_seconds <= 0:
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()  # a flood of distinct tokens only costs lookups, never memory
        self._entries[digest] = (client_id, self._monotonic() + self.ttl_seconds)

    def evict_client(self, client_id: ClientId) -> None:
        for digest in [d for d, (cid, _) in self._entries.items() if cid == client_id]:
            del self._entries[digest]

    def clear(self) -> None:
        self._entries.clear()
