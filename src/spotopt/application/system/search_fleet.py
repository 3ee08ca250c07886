"""M12: search clients, agents, instances and replicas across the fleet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spotopt.application.ports.admin_views import HIT_ORDER, FleetSearch, HitType, SearchHit
from spotopt.domain.shared.errors import InvalidValueError

MIN_QUERY, MAX_QUERY = 2, 100


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchFleetQuery:
    text: str
    types: frozenset[HitType] = frozenset(HIT_ORDER)
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchFleetResult:
    query: str
    hits: Sequence[SearchHit]
    total: int


class SearchFleet:
    """- ``q``: 2–100 characters, matched literally (``%`` and ``_`` are not wildcards), case-insensitive.
    - Exact id matches first, then client, agent, instance, replica, then ``label``; deleted agents included.
    """

    def __init__(self, search: FleetSearch) -> None:
        self._search = search

    async def execute(self, query: SearchFleetQuery) -> SearchFleetResult:
        if not MIN_QUERY <= len(query.text) <= MAX_QUERY:
            raise InvalidValueError("q", f"must be {MIN_QUERY}-{MAX_QUERY} characters")
        types = query.types or frozenset(HIT_ORDER)
        hits, total = await self._search.search(query.text, types, limit=query.limit, offset=query.offset)
        return SearchFleetResult(query=query.text, hits=hits, total=total)
