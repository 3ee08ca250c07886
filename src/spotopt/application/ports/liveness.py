"""The heartbeat fast path's port (A2, ``domain.agents.liveness_refresh``)."""

from __future__ import annotations

from typing import Protocol

from spotopt.domain.agents.liveness_refresh import LivenessRefresh


class LivenessRefresher(Protocol):
    """Apply ``refresh`` in the unit of work's transaction when ``refresh_applies`` to the stored rows (no other
    read or write); True when it did, False (nothing written) when the full rule must decide. Does not commit.
    """

    async def refresh(self, refresh: LivenessRefresh) -> bool: ...
