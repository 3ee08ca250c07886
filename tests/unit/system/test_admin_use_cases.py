"""Admin read use cases (M4, M6, M8 – M12) on the honest fakes: no I/O, the rules of api.md §7 and domain §2.2."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.agents.list_all_agents import ListAllAgents, ListAllAgentsQuery
from spotopt.application.agents.list_all_instances import ListAllInstances, ListAllInstancesQuery
from spotopt.application.clients.get_client_growth import GetClientGrowth, GetClientGrowthQuery
from spotopt.application.clients.get_token_metadata import GetTokenMetadata, GetTokenMetadataQuery
from spotopt.application.errors import NotFoundError, UnavailableError
from spotopt.application.jobs.schedule import DEFAULT_JOB_SPECS, JobCatalogue
from spotopt.application.system.get_system_health import GetSystemHealth
from spotopt.application.system.job_health import JobHealth, ServerStart
from spotopt.application.system.list_activity import ListActivity, ListActivityQuery
from spotopt.application.system.search_fleet import SearchFleet, SearchFleetQuery
from spotopt.domain.agents.display_status import DisplayStatus
from spotopt.domain.agents.values import InstanceRole, Lifecycle
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.decisions.policy import EngineKind, PolicyDocument
from spotopt.domain.ledger.snapshots import ClientGrowthSnapshot
from spotopt.domain.notifications.notification import SystemEvent
from spotopt.domain.replicas.current import ReplicaBrief, current_replica
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import InstanceId
from tests.factories.agents import make_agent, make_client, make_instance
from tests.factories.common import T0
from tests.factories.replicas import make_replica
from tests.fakes.admin_views import (
    FixedPolicyStore,
    InMemoryAdminActivityView,
    InMemoryAdminFleetView,
    InMemoryFleetSearch,
    InMemoryJobMonitor,
    StubDatabaseProbe,
)
from tests.fakes.decisions import InMemoryModelRegistry
from tests.fakes.system import FixedClock, InMemoryJobRuns
from tests.fakes.uow import InMemoryUnitOfWork
from tests.unit.decisions.ml_helpers import manifest_for


async def test_m9_counts_live_replicas_and_names_the_most_promotable(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    client = make_client(name="Acme")
    uow.store.clients[client.client_id] = client
    agent = make_agent(client.client_id)
    uow.store.agents[agent.agent_id] = agent
    older_syncing = make_replica(agent, status=ReplicaStatus.SYNCING, created_at=T0)
    ready = make_replica(agent, status=ReplicaStatus.READY, created_at=T0 + timedelta(minutes=5))
    promoted = make_replica(agent, status=ReplicaStatus.PROMOTED, created_at=T0 - timedelta(minutes=5))
    for replica in (older_syncing, ready, promoted):
        uow.store.replicas[replica.replica_id] = replica

    result = await ListAllAgents(InMemoryAdminFleetView(uow.store), clock).execute(ListAllAgentsQuery())

    (row,) = result.agents
    assert (row.replica_count, row.current_replica_id, row.client_name) == (2, ready.replica_id, "Acme")


@given(statuses=st.lists(st.sampled_from(list(ReplicaStatus)), max_size=6), offsets=st.data())
def test_domain_2_2_current_replica_is_ready_then_syncing_then_launching_then_oldest(
    statuses: list[ReplicaStatus], offsets: st.DataObject
) -> None:
    replicas = [
        ReplicaBrief(replica_id=f"r{n}", status=s, created_at=T0 + timedelta(seconds=offsets.draw(st.integers(0, 5))))
        for n, s in enumerate(statuses)
    ]
    chosen = current_replica(replicas)

    live = [r for r in replicas if r.status in (ReplicaStatus.READY, ReplicaStatus.SYNCING, ReplicaStatus.LAUNCHING)]
    if not live:
        assert chosen is None
        return
    assert chosen is not None
    best = next(
        s
        for s in (ReplicaStatus.READY, ReplicaStatus.SYNCING, ReplicaStatus.LAUNCHING)
        if any(r.status is s for r in live)
    )
    assert chosen.status is best
    assert chosen.created_at == min(r.created_at for r in live if r.status is best)


async def test_m9_deleted_agents_only_on_request_or_by_the_deleted_status(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    client = make_client()
    uow.store.clients[client.client_id] = client
    gone = make_agent(client.client_id, lifecycle=Lifecycle.DELETED, deleted_at=T0)
    uow.store.agents[gone.agent_id] = gone
    sut = ListAllAgents(InMemoryAdminFleetView(uow.store), clock)

    hidden = await sut.execute(ListAllAgentsQuery())
    asked = await sut.execute(ListAllAgentsQuery(include_deleted=True))
    by_status = await sut.execute(ListAllAgentsQuery(statuses=frozenset({DisplayStatus.DELETED})))

    assert hidden.total == 0
    assert [a.status for a in asked.agents] == [DisplayStatus.DELETED]
    assert by_status.total == 1


async def test_m8_lists_live_roles_by_default_and_every_role_on_request(uow: InMemoryUnitOfWork) -> None:
    client = make_client()
    uow.store.clients[client.client_id] = client
    agent = make_agent(client.client_id)
    uow.store.agents[agent.agent_id] = agent
    for n, role in enumerate(InstanceRole):
        instance = make_instance(agent.agent_id, client.client_id, instance_id=InstanceId(f"i-{n:08x}"), role=role)
        uow.store.instances[(client.client_id, instance.instance_id)] = instance
    sut = ListAllInstances(InMemoryAdminFleetView(uow.store))

    default = await sut.execute(ListAllInstancesQuery())
    every = await sut.execute(ListAllInstancesQuery(roles=frozenset(InstanceRole)))

    assert {i.instance.role for i in default.instances} == {
        InstanceRole.PRIMARY,
        InstanceRole.STANDBY,
        InstanceRole.KEPT_OLD,
    }
    assert every.total == 4


async def test_m10_the_window_is_rolling_days_times_24_hours(uow: InMemoryUnitOfWork, clock: FixedClock) -> None:
    now = clock.now()
    for n, age in enumerate((timedelta(days=1), timedelta(days=1, seconds=1), timedelta(0))):
        uow.store.events.append(
            SystemEvent(
                event_id=str(n + 1), type="agent_offline", severity=Severity.WARNING, message="m", created_at=now - age
            )
        )

    result = await ListActivity(InMemoryAdminActivityView(uow.store), clock).execute(ListActivityQuery(days=1))

    assert [e.event_id for e in result.events] == ["3", "1"]  # newest first; one second too old is out
    assert result.total == 2


async def test_m12_rejects_queries_outside_2_to_100_characters(uow: InMemoryUnitOfWork) -> None:
    sut = SearchFleet(InMemoryFleetSearch(uow.store))
    for text in ("a", "x" * 101):
        with pytest.raises(InvalidValueError) as caught:
            await sut.execute(SearchFleetQuery(text=text))
        assert caught.value.field == "q"
    assert (await sut.execute(SearchFleetQuery(text="x" * 100))).total == 0


async def test_m4_token_metadata_and_unknown_client(uow: InMemoryUnitOfWork) -> None:
    client = make_client(token_hint="wxyz")
    uow.store.clients[client.client_id] = client
    sut = GetTokenMetadata(uow)

    meta = await sut.execute(GetTokenMetadataQuery(client_id=client.client_id))

    assert (meta.token_hint, meta.token_issued_at) == ("wxyz", client.token_issued_at)
    with pytest.raises(NotFoundError):
        await sut.execute(GetTokenMetadataQuery(client_id="None"))


async def test_m6_growth_ends_yesterday_and_never_fabricates_missing_dates(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    today = clock.now().date()
    for back in (0, 1, 3, 5):
        day = today - timedelta(days=back)
        uow.store.growth_snapshots[day] = ClientGrowthSnapshot(
            day=day, total_clients=3, new_clients=0, active_clients=None, computed_at=clock.now()
        )

    result = await GetClientGrowth(uow, clock).execute(GetClientGrowthQuery(days=3))

    assert [s.day for s in result.growth] == [today - timedelta(days=3), today - timedelta(days=1)]
    assert all(isinstance(s.day, date) for s in result.growth)


def system_health(uow: InMemoryUnitOfWork, clock: FixedClock, **kwargs: object) -> GetSystemHealth:
    runs = InMemoryJobRuns()
    jobs = JobHealth(
        InMemoryJobMonitor(runs, DEFAULT_JOB_SPECS), runs, JobCatalogue(DEFAULT_JOB_SPECS), ServerStart(clock.now())
    )
    return GetSystemHealth(
        kwargs.get("probe", StubDatabaseProbe()),  # type: ignore[arg-type]
        InMemoryAdminActivityView(uow.store),
        jobs,
        kwargs.get("policies", FixedPolicyStore()),  # type: ignore[arg-type]
        kwargs.get("models", InMemoryModelRegistry()),  # type: ignore[arg-type]
        clock,
    )


async def test_m11_database_down_is_503_unavailable(uow: InMemoryUnitOfWork, clock: FixedClock) -> None:
    with pytest.raises(UnavailableError) as caught:
        await system_health(uow, clock, probe=StubDatabaseProbe(up=False)).execute()
    assert caught.value.dependency == "database"


async def test_m11_shares_h1_job_state_and_reports_the_engine_in_use(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    models = InMemoryModelRegistry()
    catboost = FixedPolicyStore(PolicyDocument(engine_kind=EngineKind.CATBOOST))

    without_model = await system_health(uow, clock, policies=catboost, models=models).execute()
    version = await models.register_candidate(manifest_for(ModelKind.INTERRUPTION_RISK, 1), clock.now())
    await models.activate(ModelKind.INTERRUPTION_RISK, version.version, clock.now())
    with_model = await system_health(uow, clock, policies=catboost, models=models).execute()

    assert without_model.background_jobs == "starting"  # the same JobHealth as H1, just after start
    assert len(without_model.jobs) == len(DEFAULT_JOB_SPECS)
    assert (without_model.engine.engine_kind, without_model.engine.fallback_active) == ("catboost", True)
    assert (with_model.engine.risk_model_version, with_model.engine.fallback_active) == ("interruption_risk-v1", False)
