"""M17: model sessions, newest first, paged; trained candidates appear with origin ``trained``."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.ports.decisions import ModelSessions
from spotopt.domain.decisions.models import ModelStatus
from spotopt.domain.decisions.sessions import ModelSession


@dataclass(frozen=True, slots=True, kw_only=True)
class ListModelSessionsQuery:
    statuses: frozenset[ModelStatus] = frozenset()
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSessionPage:
    sessions: tuple[ModelSession, ...]
    total: int


class ListModelSessions:
    """Read-only; a session's status is the most advanced of its versions' (A.12)."""

    def __init__(self, sessions: ModelSessions) -> None:
        self._sessions = sessions

    async def execute(self, query: ListModelSessionsQuery) -> ModelSessionPage:
        found, total = await self._sessions.list_sessions(query.statuses, query.limit, query.offset)
        return ModelSessionPage(sessions=tuple(found), total=total)
