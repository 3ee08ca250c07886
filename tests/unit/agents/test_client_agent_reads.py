"""C3 and C10 use cases over the in-memory read models, and the §3.1 display status (B.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.agents.list_client_agents import ListClientAgents, ListClientAgentsQuery
from spotopt.application.agents.list_client_instances import ListClientInstances, ListClientInstancesQuery
from spotopt.application.errors import NotFoundError
from spotopt.application.ports.client_views import PageRequest
from spotopt.domain.agents.display_status import DisplayStatus, display_status
from spotopt.domain.agents.values import InstanceRole, Lifecycle, Liveness, ReportedStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.ids import ClientId, InstanceId
from tests.factories.agents import make_agent, make_client, make_instance
from tests.factories.common import T0
from tests.factories.replicas import make_episode, make_replica
from tests.fakes.client_views import InMemoryClientViews
from tests.fakes.store import InMemoryStore
from tests.fakes.system import FixedClock


def _world(store: InMemoryStore, count: int) -> ClientId:
    client = make_client()
    store.clients[client.client_id] = client
    for n in range(count):
        agent = make_agent(client.client_id, logical_agent_id=f"web-{n}", created_at=T0 + timedelta(minutes=n))
        store.agents[agent.agent_id] = agent
        instance = make_instance(agent.agent_id, client.client_id, instance_id=InstanceId(f"i-{n:08x}"))
        store.instances[(client.client_id, instance.instance_id)] = instance
    return client.client_id


@given(
    deleted=st.booleans(),
    offline=st.booleans(),
    switching=st.booleans(),
    enabled=st.booleans(),
    reported=st.sampled_from([None, *ReportedStatus]),
)
def test_b1_display_status_is_the_first_matching_row_of_section_3_1(
    deleted: bool, offline: bool, switching: bool, enabled: bool, reported: ReportedStatus | None
) -> None:
    agent = make_agent(
        ClientId("c"),
        lifecycle=Lifecycle.DELETED if deleted else Lifecycle.ACTIVE,
        liveness=Liveness.OFFLINE if offline else Liveness.ONLINE,
        enabled=enabled,
        reported_status=reported,
    )
    rows = [
        (deleted, DisplayStatus.DELETED),
        (offline, DisplayStatus.OFFLINE),
        (switching, DisplayStatus.SWITCHING),
        (not enabled, DisplayStatus.DISABLED),
        (reported is ReportedStatus.ERROR, DisplayStatus.ERROR),
        (True, DisplayStatus.ONLINE),
    ]
    assert display_status(agent, switching=switching) is next(status for hit, status in rows if hit)


async def test_c3_pages_newest_first_and_counts_every_match() -> None:
    store = InMemoryStore()
    client_id = _world(store, 5)
    sut = ListClientAgents(InMemoryClientViews(store), FixedClock())
    result = await sut.execute(ListClientAgentsQuery(client_id=client_id, page=PageRequest(limit=2, offset=1)))
    assert result.total == 5
    assert [v.agent.logical_agent_id for v in result.agents] == ["web-3", "web-2"]


async def test_c3_hides_deleted_agents_unless_asked_and_filters_by_display_status() -> None:
    store = InMemoryStore()
    client_id = _world(store, 3)
    agents = sorted(store.agents.values(), key=lambda a: a.logical_agent_id)
    agents[0].lifecycle = Lifecycle.DELETED
    store.episodes["e"] = make_episode(agents[1], state=EpisodeState.TERMINATING)
    sut = ListClientAgents(InMemoryClientViews(store), FixedClock())
    visible = await sut.execute(ListClientAgentsQuery(client_id=client_id))
    everything = await sut.execute(ListClientAgentsQuery(client_id=client_id, include_deleted=True))
    switching = await sut.execute(
        ListClientAgentsQuery(client_id=client_id, statuses=frozenset({DisplayStatus.SWITCHING}))
    )
    assert (visible.total, everything.total) == (2, 3)
    assert [v.agent.agent_id for v in switching.agents] == [agents[1].agent_id]


async def test_c3_derives_replica_count_and_the_most_promotable_replica() -> None:
    store = InMemoryStore()
    client_id = _world(store, 1)
    [agent] = store.agents.values()
    ready = make_replica(agent, status=ReplicaStatus.READY, created_at=T0 + timedelta(minutes=5))
    for replica in (
        make_replica(agent, status=ReplicaStatus.SYNCING),
        ready,
        make_replica(agent, status=ReplicaStatus.FAILED),
    ):
        store.replicas[replica.replica_id] = replica
    sut = ListClientAgents(InMemoryClientViews(store), FixedClock())
    [view] = (await sut.execute(ListClientAgentsQuery(client_id=client_id))).agents
    assert (view.replica_count, view.current_replica_id) == (2, ready.replica_id)


async def test_c3_cl4_never_lists_another_clients_agents() -> None:
    store = InMemoryStore()
    _world(store, 2)
    other = _world(store, 1)
    sut = ListClientAgents(InMemoryClientViews(store), FixedClock())
    result = await sut.execute(ListClientAgentsQuery(client_id=other))
    assert result.total == 1
    assert all(v.agent.client_id == other for v in result.agents)


async def test_c10_default_roles_hide_terminated_instances_and_a_foreign_agent_filter_is_404() -> None:
    store = InMemoryStore()
    client_id = _world(store, 3)
    other = _world(store, 1)
    first = next(iter(store.instances.values()))
    first.role = InstanceRole.TERMINATED
    sut = ListClientInstances(InMemoryClientViews(store))
    live = await sut.execute(ListClientInstancesQuery(client_id=client_id))
    every = await sut.execute(ListClientInstancesQuery(client_id=client_id, roles=frozenset(InstanceRole)))
    assert (live.total, every.total) == (2, 3)
    foreign_agent = next(a.agent_id for a in store.agents.values() if a.client_id == other)
    with pytest.raises(NotFoundError):
        await sut.execute(ListClientInstancesQuery(client_id=client_id, agent_id=foreign_agent))
