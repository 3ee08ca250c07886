"""M10: the operator's activity log (system events, NT-6) over a rolling window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from spotopt.application.ports.admin_views import ActivityFilter, AdminActivityView
from spotopt.application.ports.system import Clock
from spotopt.domain.notifications.notification import SystemEvent
from spotopt.domain.shared.events import Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class ListActivityQuery:
    days: int = 7
    severities: frozenset[Severity] = frozenset()
    types: frozenset[str] = frozenset()
    client_id: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ListActivityResult:
    events: Sequence[SystemEvent]
    total: int


class ListActivity:
    """- Rolling window ``[now − days × 24 h, now]`` (§1.8); filters combine (AND); newest first; a pure read."""

    def __init__(self, view: AdminActivityView, clock: Clock) -> None:
        self._view = view
        self._clock = clock

    async def execute(self, query: ListActivityQuery) -> ListActivityResult:
        now = self._clock.now()
        flt = ActivityFilter(
            since=now - timedelta(days=query.days),
            until=now,
            severities=query.severities,
            types=query.types,
            client_id=query.client_id,
        )
        events, total = await self._view.events(flt, limit=query.limit, offset=query.offset)
        return ListActivityResult(events=events, total=total)
