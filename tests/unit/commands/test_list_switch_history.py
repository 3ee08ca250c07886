"""C19/C22 read model: rolling window, newest first, filters on agent, either instance side and origin."""

from __future__ import annotations

from datetime import timedelta

from spotopt.application.commands.list_switch_history import ListSwitchHistory, ListSwitchHistoryQuery
from spotopt.domain.commands.switch import InstanceFacts
from spotopt.domain.shared.ids import InstanceId
from tests.factories.agents import make_agent, make_client
from tests.factories.commands import make_switch
from tests.factories.savings_history import NOW
from tests.fakes.savings_views import InMemorySwitchHistoryViews
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork


async def test_c19_rolling_window_newest_first_with_filters_and_tenancy() -> None:
    uow = InMemoryUnitOfWork()
    mine, theirs = make_client(), make_client()
    web, api, foreign = make_agent(mine.client_id), make_agent(mine.client_id), make_agent(theirs.client_id)
    old, new = InstanceId("i-00000001"), InstanceId("i-00000002")
    switches = [
        make_switch(web, received_at=NOW - timedelta(hours=1), origin="manual"),
        make_switch(web, received_at=NOW - timedelta(days=2), origin="automatic",
                    old=InstanceFacts(old), new=InstanceFacts(new)),
        make_switch(api, received_at=NOW - timedelta(days=8), origin="agent"),  # outside a 7-day window
        make_switch(foreign, received_at=NOW - timedelta(hours=2), origin="manual"),  # another tenant (C-6)
    ]  # fmt: skip
    for s in switches:
        uow.store.switches[s.switch_id] = s
    sut = ListSwitchHistory(InMemorySwitchHistoryViews(uow.store), FixedClock(NOW))

    week = await sut.execute(ListSwitchHistoryQuery(client_id=mine.client_id, days=7))
    assert [s.switch_id for s in week.switches] == [switches[0].switch_id, switches[1].switch_id]
    assert week.total == 2
    month = await sut.execute(ListSwitchHistoryQuery(client_id=mine.client_id, days=30, limit=1, offset=1))
    assert (month.total, [s.switch_id for s in month.switches]) == (3, [switches[1].switch_id])
    by_side = await sut.execute(ListSwitchHistoryQuery(client_id=mine.client_id, instance_id=new))
    assert [s.switch_id for s in by_side.switches] == [switches[1].switch_id]
    by_origin = await sut.execute(
        ListSwitchHistoryQuery(client_id=mine.client_id, days=30, origins=frozenset({"agent", "manual"}))
    )
    assert {s.switch_id for s in by_origin.switches} == {switches[0].switch_id, switches[2].switch_id}
    foreign_agent = await sut.execute(ListSwitchHistoryQuery(client_id=mine.client_id, agent_id=foreign.agent_id))
    assert foreign_agent.total == 0
