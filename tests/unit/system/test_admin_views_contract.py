"""The admin read views: the SQL adapters and the in-memory fakes answer alike over one generated fleet, so the
use-case tests on fakes say what the server does. Proven here with hypothesis: the display status (domain §3.1,
B.1) computed in SQL equals ``display_status``; M9/M8 filters, order and paging (§1.8); M12's literal,
case-insensitive match with LIKE wildcards in the query (``%``, ``_``, ``!``) and its ranking.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.adapters.persistence.views.admin_fleet import SqlAlchemyAdminFleetView
from spotopt.adapters.persistence.views.admin_search import SqlAlchemyFleetSearch
from spotopt.application.ports.admin_views import HIT_ORDER, AgentFilter, InstanceFilter
from spotopt.domain.agents.display_status import DisplayStatus
from spotopt.domain.agents.values import InstanceRole, Lifecycle, Liveness, ReportedStatus
from spotopt.domain.commands.values import CommandStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.ids import InstanceId
from tests.factories.agents import make_agent, make_client, make_instance
from tests.factories.commands import make_command
from tests.factories.common import T0
from tests.factories.replicas import make_episode, make_replica
from tests.fakes.admin_views import InMemoryAdminFleetView, InMemoryFleetSearch
from tests.fakes.store import InMemoryStore
from tests.http_app import make_settings, reset_database
from tests.services import sqlite_url

NAME_CHARS = "ab_%!X-"


@dataclass(frozen=True)
class AgentSpec:
    logical: str
    deleted: bool
    offline: bool
    enabled: bool
    reported: ReportedStatus | None
    heartbeat_minutes: int | None
    delivered_switch: bool
    terminating: bool
    replicas: tuple[ReplicaStatus, ...]
    role: InstanceRole
    seen_minutes: int


agent_specs = st.builds(
    AgentSpec,
    logical=st.text(NAME_CHARS, min_size=1, max_size=6),
    deleted=st.booleans(),
    offline=st.booleans(),
    enabled=st.booleans(),
    reported=st.sampled_from([None, ReportedStatus.ERROR, ReportedStatus.ONLINE]),
    heartbeat_minutes=st.one_of(st.none(), st.integers(0, 3)),
    delivered_switch=st.booleans(),
    terminating=st.booleans(),
    replicas=st.lists(st.sampled_from(list(ReplicaStatus)), max_size=3).map(tuple),
    role=st.sampled_from(list(InstanceRole)),
    seen_minutes=st.integers(0, 3),
)


def build_fleet(specs: list[AgentSpec]) -> InMemoryStore:
    store = InMemoryStore()
    clients = [make_client(name="Acme_1"), make_client(name="beta%")]
    for client in clients:
        store.clients[client.client_id] = client
    for n, spec in enumerate(specs):
        client = clients[n % 2]
        instance_id = InstanceId(f"i-{n:017x}")
        agent = make_agent(
            client.client_id,
            logical_agent_id=f"{spec.logical}{n}",
            hostname=f"h{n}.{spec.logical}",
            enabled=spec.enabled,
            reported_status=spec.reported,
            liveness=Liveness.OFFLINE if spec.offline else Liveness.ONLINE,
            last_heartbeat_at=None
            if spec.heartbeat_minutes is None
            else T0 + timedelta(minutes=spec.heartbeat_minutes),
            lifecycle=Lifecycle.DELETED if spec.deleted else Lifecycle.ACTIVE,
            deleted_at=T0 if spec.deleted else None,
        )
        store.agents[agent.agent_id] = agent
        instance = make_instance(
            agent.agent_id, client.client_id, instance_id=instance_id, role=spec.role,
            first_seen_at=T0 + timedelta(minutes=spec.seen_minutes),
        )  # fmt: skip
        store.instances[(client.client_id, instance_id)] = instance
        if spec.delivered_switch:
            command = make_command(agent, status=CommandStatus.DELIVERED)
            store.commands[command.command_id] = command
        if spec.terminating:
            episode = make_episode(agent, instance_id, state=EpisodeState.TERMINATING)
            store.episodes[episode.episode_id] = episode
        for k, status in enumerate(spec.replicas):
            replica = make_replica(agent, status=status, created_at=T0 + timedelta(seconds=k))
            store.replicas[replica.replica_id] = replica
    return store


async def persist(store: InMemoryStore, uow: SqlAlchemyUnitOfWork) -> None:
    for client in store.clients.values():
        await uow.clients.add(client)
    await uow.flush()
    for agent in store.agents.values():
        await uow.agents.add(agent)
    await uow.flush()
    for instance in store.instances.values():
        await uow.instances.add(instance)
    await uow.flush()
    for episode in store.episodes.values():
        await uow.episodes.add(episode)
    for command in store.commands.values():
        await uow.commands.add(command)
    for replica in store.replicas.values():
        await uow.replicas.add(replica)
    await uow.commit()


def agent_rows(page: Any) -> list[tuple[str, str, list[str]]]:
    listings, total = page
    return [(r.agent.agent_id, r.status.value, sorted(b.replica_id for b in r.replicas)) for r in listings] + [total]


def instance_rows(page: Any) -> list[Any]:
    listings, total = page
    return [(r.instance.instance_id, r.client_name, r.logical_agent_id) for r in listings] + [total]


def hit_rows(page: Any) -> list[Any]:
    hits, total = page
    return [(h.type, h.id, h.label, h.matched_field, h.status, h.exact, h.client_name, h.agent_id) for h in hits] + [
        total
    ]


async def compare(store: InMemoryStore, queries: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        db = make_settings(sqlite_url(tmp), tmp)
        reset_database(db)
        engine = create_engine(db.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                await persist(store, SqlAlchemyUnitOfWork(session))
            async with create_sessionmaker(engine)() as session:
                sql_fleet, fake_fleet = SqlAlchemyAdminFleetView(session), InMemoryAdminFleetView(store)
                sql_search, fake_search = SqlAlchemyFleetSearch(session), InMemoryFleetSearch(store)
                some_client = next(iter(store.clients))
                agent_filters = [AgentFilter(include_deleted=True), AgentFilter(client_id=some_client)]
                agent_filters += [AgentFilter(statuses=frozenset({s}), include_deleted=True) for s in DisplayStatus]
                for flt in agent_filters:
                    for limit, offset in ((500, 0), (2, 1)):
                        sql = await sql_fleet.agents(flt, limit=limit, offset=offset)
                        fake = await fake_fleet.agents(flt, limit=limit, offset=offset)
                        assert agent_rows(sql) == agent_rows(fake), flt
                for iflt in (InstanceFilter(), InstanceFilter(roles=frozenset({InstanceRole.PRIMARY}))):
                    sql_i = await sql_fleet.instances(iflt, limit=3, offset=0)
                    fake_i = await fake_fleet.instances(iflt, limit=3, offset=0)
                    assert instance_rows(sql_i) == instance_rows(fake_i)
                for text in [*queries, some_client.upper()]:
                    for types in (frozenset(HIT_ORDER), frozenset({HIT_ORDER[1]})):
                        sql_h = await sql_search.search(text, types, limit=500, offset=0)
                        fake_h = await fake_search.search(text, types, limit=500, offset=0)
                        assert hit_rows(sql_h) == hit_rows(fake_h), text
        finally:
            await engine.dispose()


@settings(max_examples=8)
@given(
    specs=st.lists(agent_specs, min_size=1, max_size=8),
    queries=st.lists(st.text(NAME_CHARS + "0123456789", min_size=2, max_size=4), min_size=1, max_size=3),
)
def test_m9_m12_b1_sql_views_and_fakes_agree_on_any_fleet(specs: list[AgentSpec], queries: list[str]) -> None:
    asyncio.run(compare(build_fleet(specs), queries))
