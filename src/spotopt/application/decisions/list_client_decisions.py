"""C4: stored decisions (A.7) of the client's agents in a rolling window, newest first, paged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from spotopt.application.errors import NotFoundError
from spotopt.application.ports.client_views import FIRST_PAGE, ClientViews, DecisionFilter, DecisionView, PageRequest
from spotopt.application.ports.system import Clock
from spotopt.domain.decisions.decision import Action
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ListClientDecisionsQuery:
    client_id: ClientId
    days: int = 7
    agent_id: str | None = None
    triggers: frozenset[Trigger] | None = None
    actions: frozenset[Action] | None = None
    page: PageRequest = FIRST_PAGE


@dataclass(frozen=True, slots=True, kw_only=True)
class ListClientDecisionsResult:
    decisions: Sequence[DecisionView]
    total: int


class ListClientDecisions:
    """- Rolling window ``[now - days × 24 h, now]`` (§1.8); only the client's agents (CL-4); an ``agent_id`` naming
      no agent of the client → 404.
    - Newest ``evaluated_at`` first, ties by id. A pure read.
    """

    def __init__(self, views: ClientViews, clock: Clock) -> None:
        self._views = views
        self._clock = clock

    async def execute(self, query: ListClientDecisionsQuery) -> ListClientDecisionsResult:
        if query.agent_id is not None and not await self._views.owns_agent(query.client_id, query.agent_id):
            raise NotFoundError("Agent not found")
        since = self._clock.now() - timedelta(days=query.days)
        where = DecisionFilter(since=since, agent_id=query.agent_id, triggers=query.triggers, actions=query.actions)
        decisions, total = await self._views.decisions(query.client_id, where, query.page)
        return ListClientDecisionsResult(decisions=decisions, total=total)
