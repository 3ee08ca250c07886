"""C19 / C22: a client's Switch records of the rolling window, newest first, filtered and paged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.application.ports.savings_views import SwitchFilter, SwitchHistoryViews
from spotopt.application.ports.system import Clock
from spotopt.domain.commands.switch import Switch
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ListSwitchHistoryQuery:
    client_id: ClientId
    days: int = 30
    agent_id: str | None = None
    instance_id: str | None = None
    origins: frozenset[str] = frozenset()
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ListSwitchHistoryResult:
    switches: Sequence[Switch]
    total: int
    now: datetime


class ListSwitchHistory:
    """- Rolling window ``[now - days x 24 h, now]`` on ``received_at`` (§1.8); newest first, ties by id.
    - Only the token's client's records exist (C-6): an ``agent_id`` or ``instance_id`` of another client matches
      nothing. ``instance_id`` matches the old or the new side; ``origins`` are command origins or ``agent``.
    """

    def __init__(self, switches: SwitchHistoryViews, clock: Clock) -> None:
        self._switches = switches
        self._clock = clock

    async def execute(self, query: ListSwitchHistoryQuery) -> ListSwitchHistoryResult:
        now = self._clock.now()
        found = SwitchFilter(
            client_id=query.client_id,
            since=now - timedelta(days=query.days),
            until=now,
            agent_id=query.agent_id,
            instance_id=query.instance_id,
            origins=query.origins,
        )
        page, total = await self._switches.page_switches(found, limit=query.limit, offset=query.offset)
        return ListSwitchHistoryResult(switches=page, total=total, now=now)
