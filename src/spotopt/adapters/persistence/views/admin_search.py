"""M12 fleet search: one UNION ALL over clients, agents, instances and replicas, ordered and paged in SQL.

The query text is matched literally: ``!`` escapes ``%``, ``_`` and itself in the LIKE pattern. A substring match
cannot use a B-tree index, so every branch scans its table once; the exact-id ranking uses the primary keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, String, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.models.agents import AgentModel, InstanceModel
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.adapters.persistence.models.replicas import ReplicaModel
from spotopt.adapters.persistence.views.admin_status import display_status_expr
from spotopt.application.ports.admin_views import HIT_ORDER, HitType, SearchHit

A, N, C, R = AgentModel, InstanceModel, ClientModel, ReplicaModel
ESCAPE = "!"


def like_pattern(text: str) -> str:
    """``%text%`` with the LIKE wildcards of ``text`` taken literally (lower-cased: the match is case-insensitive)."""
    escaped = text.lower().replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


class SqlAlchemyFleetSearch:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def search(
        self, text: str, types: frozenset[HitType], *, limit: int, offset: int
    ) -> tuple[Sequence[SearchHit], int]:
        pattern, exact = like_pattern(text), text.lower()
        branches = [_BRANCHES[kind](pattern, exact) for kind in HIT_ORDER if kind in types]
        hits = union_all(*branches).subquery("hits")
        total = int((await self._session.execute(select(func.count()).select_from(hits))).scalar_one())
        page = (
            select(hits)
            .order_by(hits.c.exact.desc(), hits.c.rank.asc(), hits.c.label.asc(), hits.c.id.asc())
            .limit(limit)
            .offset(offset)
        )
        rows = (await self._session.execute(page)).mappings().all()
        return [_hit(row) for row in rows], total


def _like(column: Any, pattern: str) -> Any:
    return func.lower(column).like(pattern, escape=ESCAPE)


def _columns(kind: HitType, hit_id: Any, label: Any, agent_id: Any, field: Any, status: Any, exact: Any) -> list[Any]:
    return [
        literal(kind.value, String()).label("type"),
        cast(hit_id, String()).label("id"),
        cast(label, String()).label("label"),
        cast(C.client_id, String()).label("client_id"),
        cast(C.name, String()).label("client_name"),
        cast(agent_id, String()).label("agent_id"),
        cast(field, String()).label("matched_field"),
        cast(status, String()).label("status"),
        cast(case((exact, 1), else_=0), Integer()).label("exact"),
        literal(HIT_ORDER.index(kind), Integer()).label("rank"),
    ]


def _fields(pattern: str, *named: tuple[str, Any]) -> tuple[Any, Any]:
    """The match condition and the first matching field's name (fields in the spec's order)."""
    matches = [(_like(column, pattern), name) for name, column in named]
    return or_(*(m for m, _ in matches)), case(*matches, else_=named[-1][0])


def _clients(pattern: str, exact: str) -> Any:
    where, field = _fields(pattern, ("id", C.client_id), ("name", C.name), ("email", C.email))
    cols = _columns(HitType.CLIENT, C.client_id, C.name, null(), field, C.status, func.lower(C.client_id) == exact)
    return select(*cols).where(where)


def _agents(pattern: str, exact: str) -> Any:
    where, field = _fields(
        pattern, ("id", A.agent_id), ("logical_agent_id", A.logical_agent_id), ("hostname", A.hostname)
    )
    status = display_status_expr()
    cols = _columns(
        HitType.AGENT, A.agent_id, A.logical_agent_id, A.agent_id, field, status, func.lower(A.agent_id) == exact
    )
    return select(*cols).join(C, C.client_id == A.client_id).where(where)


def _instances(pattern: str, exact: str) -> Any:
    where, field = _fields(pattern, ("instance_id", N.instance_id))
    cols = _columns(
        HitType.INSTANCE, N.instance_id, N.instance_id, N.agent_id, field, N.role, func.lower(N.instance_id) == exact
    )
    return select(*cols).join(C, C.client_id == N.client_id).where(where)


def _replicas(pattern: str, exact: str) -> Any:
    where, field = _fields(pattern, ("id", R.replica_id), ("instance_id", R.instance_id))
    cols = _columns(
        HitType.REPLICA, R.replica_id, R.replica_id, R.agent_id, field, R.status, func.lower(R.replica_id) == exact
    )
    return select(*cols).join(C, C.client_id == R.client_id).where(where)


_BRANCHES = {
    HitType.CLIENT: _clients,
    HitType.AGENT: _agents,
    HitType.INSTANCE: _instances,
    HitType.REPLICA: _replicas,
}


def _hit(row: Any) -> SearchHit:
    return SearchHit(
        type=HitType(row["type"]),
        id=row["id"],
        label=row["label"],
        client_id=row["client_id"],
        client_name=row["client_name"],
        agent_id=row["agent_id"],
        matched_field=row["matched_field"],
        status=row["status"],
        exact=bool(row["exact"]),
    )
