"""SQL of the switch-history views (C19, C20 ``switch_origins``, C22) over ``ix_switches_client_id_received_at``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.mappers.commands import SWITCHES
from spotopt.adapters.persistence.models.commands import SwitchModel
from spotopt.adapters.persistence.views.savings_ledger import rows, run
from spotopt.application.ports.savings_views import SwitchFilter
from spotopt.domain.commands.switch import Switch
from spotopt.domain.shared.ids import ClientId


class SqlAlchemySwitchHistoryViews:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def page_switches(self, query: SwitchFilter, *, limit: int, offset: int) -> tuple[Sequence[Switch], int]:
        s = SwitchModel
        filters = _filters(query)
        total = (await run(self._session, select(func.count()).select_from(s).where(*filters))).scalar_one()
        if not total or offset >= total:
            return [], int(total)
        stmt = select(*s.__table__.columns).where(*filters).order_by(s.received_at.desc(), s.switch_id.asc())
        stmt = stmt.limit(limit).offset(offset)
        # Plain rows, not ORM objects (a CSV export reads up to 100 001): the mapper reads them by attribute.
        found = [SWITCHES.to_domain(cast("SwitchModel", row)) for row in (await run(self._session, stmt)).all()]
        return found, int(total)

    async def origin_counts(self, client_id: ClientId, start: datetime, end: datetime) -> Mapping[str, int]:
        s = SwitchModel
        stmt = (
            select(s.origin, func.count())
            .where(s.client_id == client_id, s.received_at >= start, s.received_at <= end)
            .group_by(s.origin)
        )
        return {origin: int(n) for origin, n in await rows(self._session, stmt)}


def _filters(query: SwitchFilter) -> list[Any]:
    s = SwitchModel
    filters: list[Any] = [s.client_id == query.client_id, s.received_at >= query.since, s.received_at <= query.until]
    if query.agent_id is not None:
        filters.append(s.agent_id == query.agent_id)
    if query.instance_id is not None:
        filters.append(or_(s.old_instance_id == query.instance_id, s.new_instance_id == query.instance_id))
    if query.origins:
        filters.append(s.origin.in_(sorted(query.origins)))
    return filters
