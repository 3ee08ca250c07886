"""C17 over the in-memory read models: a pure read (never a launcher claim, RP-10) of the client's replicas."""

from __future__ import annotations

from datetime import timedelta

import pytest

from spotopt.application.errors import NotFoundError
from spotopt.application.replicas.list_client_replicas import ListClientReplicas, ListClientReplicasQuery
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.ids import AgentId
from tests.factories.agents import make_agent, make_client
from tests.factories.common import T0
from tests.factories.replicas import make_replica
from tests.fakes.client_views import InMemoryClientViews
from tests.fakes.store import InMemoryStore
from tests.fakes.system import FixedClock


async def test_c17_lists_live_replicas_newest_first_and_claims_nothing() -> None:
    store = InMemoryStore()
    client = make_client()
    agent = make_agent(client.client_id, logical_agent_id="db-1")
    store.clients[client.client_id], store.agents[agent.agent_id] = client, agent
    older = make_replica(agent, created_at=T0)
    newer = make_replica(agent, created_at=T0 + timedelta(minutes=1))
    done = make_replica(agent, status=ReplicaStatus.TERMINATED)
    for replica in (older, newer, done):
        store.replicas[replica.replica_id] = replica
    sut = ListClientReplicas(InMemoryClientViews(store), FixedClock())

    result = await sut.execute(ListClientReplicasQuery(client_id=client.client_id))

    assert result.total == 2
    assert [v.replica.replica_id for v in result.replicas] == [newer.replica_id, older.replica_id]
    assert {v.logical_agent_id for v in result.replicas} == {"db-1"}
    assert (older.launch_claims, older.launch_lease_expires_at) == (0, None)


async def test_c17_cl4_an_agent_filter_of_another_client_is_not_found() -> None:
    store = InMemoryStore()
    mine, theirs = make_client(), make_client()
    foreign = make_agent(theirs.client_id)
    store.agents[foreign.agent_id] = foreign
    sut = ListClientReplicas(InMemoryClientViews(store), FixedClock())
    for agent_id in (foreign.agent_id, AgentId("None")):
        with pytest.raises(NotFoundError):
            await sut.execute(ListClientReplicasQuery(client_id=mine.client_id, agent_id=agent_id))
