"""Repository contracts (house style §13 "keep fakes honest"): the same behaviour from the InMemory* fakes and the
SqlAlchemy* adapters, for the core ports. The SQL side runs on the integration database (MariaDB in CI, SQLite
locally); every test works on its own client and agent ids, so the database is migrated once per module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.errors import ConflictError
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole, KeptReason
from spotopt.domain.clients.client import Client
from spotopt.domain.commands.switch import CleanupRecord
from spotopt.domain.commands.values import CommandStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.accrual import close_entry, open_entry, split_entry
from spotopt.domain.ledger.entry import CloseReason
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.ids import ClientId, CommandId, new_id
from tests import services
from tests.factories.agents import make_agent, make_client, make_instance, make_sighting
from tests.factories.commands import make_command, make_switch
from tests.factories.common import NEW, OLD, T0, THIRD
from tests.factories.notifications import make_notification
from tests.factories.replicas import make_episode, make_replica
from tests.fakes.store import InMemoryStore
from tests.fakes.uow import InMemoryUnitOfWork
from tests.http_app import make_settings, reset_database


class Backend(Protocol):
    def uow(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A fresh unit of work over the backend's store (a new transaction on SQL)."""
        ...


@dataclass
class MemoryBackend:
    store: InMemoryStore

    @asynccontextmanager
    async def uow(self) -> AsyncIterator[UnitOfWork]:
        yield InMemoryUnitOfWork(self.store)


@dataclass
class SqlBackend:
    sessions: async_sessionmaker[AsyncSession]

    @asynccontextmanager
    async def uow(self) -> AsyncIterator[UnitOfWork]:
        async with self.sessions() as session:
            yield SqlAlchemyUnitOfWork(session)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("contracts")
    settings = make_settings(services.test_database_url(tmp), tmp)
    reset_database(settings)
    return settings.database_url


@pytest.fixture(params=["in_memory", "sqlalchemy"])
async def backend(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Backend]:
    if request.param == "in_memory":
        yield MemoryBackend(InMemoryStore())
        return
    engine = create_engine(database_url, pool_size=2)
    try:
        yield SqlBackend(create_sessionmaker(engine))
    finally:
        await engine.dispose()


async def seeded(backend: Backend) -> tuple[Client, Agent]:
    """A fresh client with one active agent, committed."""
    client = make_client()
    agent = make_agent(client.client_id, logical_agent_id=f"web-{new_id()[:8]}")
    async with backend.uow() as uow:
        await uow.clients.add(client)
        await uow.agents.add(agent)
        await uow.commit()
    return client, agent


# --- clients --------------------------------------------------------------------------------------------------------


async def test_clients_are_found_by_id_token_hash_and_case_insensitive_name(backend: Backend) -> None:
    client = make_client(name=f"Acme-{new_id()[:8]}")
    async with backend.uow() as uow:
        await uow.clients.add(client)
        await uow.commit()
    async with backend.uow() as uow:
        by_id = await uow.clients.get(client.client_id)
        by_hash = await uow.clients.get_by_token_hash(client.token_hash)
        by_name = await uow.clients.find_by_name(client.name.upper())
        missing = await uow.clients.get(ClientId(new_id()))
    assert by_id is not None
    assert (by_id.client_id, by_id.name, by_id.status, by_id.max_agents) == (
        client.client_id,
        client.name,
        client.status,
        5,
    )
    assert by_hash is not None
    assert by_hash.client_id == client.client_id
    assert by_name is not None
    assert by_name.client_id == client.client_id
    assert missing is None


async def test_cl2_a_deactivated_client_is_stored_inactive(backend: Backend) -> None:
    client, _ = await seeded(backend)
    async with backend.uow() as uow:
        loaded = await uow.clients.get_for_update(client.client_id)
        assert loaded is not None
        loaded.deactivate(T0)
        await uow.commit()
    async with backend.uow() as uow:
        again = await uow.clients.get(client.client_id)
    assert again is not None
    assert (again.is_active, again.deleted_at) == (False, T0)


# --- agents ---------------------------------------------------------------------------------------------------------


async def test_ag1_a_deleted_agent_frees_its_logical_id_and_get_hides_it(backend: Backend) -> None:
    client, first = await seeded(backend)
    async with backend.uow() as uow:
        loaded = await uow.agents.get_for_update(client.client_id, first.agent_id)
        assert loaded is not None
        loaded.delete(T0)
        await uow.commit()
    second = make_agent(client.client_id, logical_agent_id=first.logical_agent_id)
    async with backend.uow() as uow:
        await uow.agents.add(second)
        await uow.commit()
    async with backend.uow() as uow:
        active = await uow.agents.find_active_by_logical_id(client.client_id, first.logical_agent_id)
        hidden = await uow.agents.get(client.client_id, first.agent_id)
        locked_hidden = await uow.agents.get_for_update(client.client_id, first.agent_id)
        count = await uow.agents.count_active(client.client_id)
    assert active is not None
    assert active.agent_id == second.agent_id
    assert (hidden, locked_hidden, count) == (None, None, 1)


async def test_ag1_two_active_agents_with_one_logical_id_are_refused(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    client, first = await seeded(backend)
    duplicate = make_agent(client.client_id, logical_agent_id=first.logical_agent_id)

    async def add_duplicate() -> None:
        async with backend.uow() as uow:
            await uow.agents.add(duplicate)
            await uow.commit()

    with pytest.raises(ConflictError):
        await add_duplicate()
    async with backend.uow() as uow:
        assert await uow.agents.count_active(client.client_id) == 1


async def test_cl4_an_agent_is_invisible_under_another_client(backend: Backend) -> None:
    _, agent = await seeded(backend)
    async with backend.uow() as uow:
        assert await uow.agents.get(ClientId(new_id()), agent.agent_id) is None
        assert await uow.agents.get(agent.client_id, "None") is None


async def test_agent_changes_made_after_loading_are_written_on_commit(backend: Backend) -> None:
    client, agent = await seeded(backend)
    async with backend.uow() as uow:
        loaded = await uow.agents.get_for_update(client.client_id, agent.agent_id)
        assert loaded is not None
        loaded.mark_offline(T0 + timedelta(minutes=1))
        loaded.enabled = False
        await uow.commit()
    async with backend.uow() as uow:
        again = await uow.agents.get(client.client_id, agent.agent_id)
    assert again is not None
    assert (again.liveness.value, again.enabled, again.liveness_changed_at) == (
        "offline",
        False,
        T0 + timedelta(minutes=1),
    )


# --- instances, sightings -------------------------------------------------------------------------------------------


async def test_in1_instances_are_keyed_by_client_and_listed_per_agent_oldest_first(backend: Backend) -> None:
    client, agent = await seeded(backend)
    other_client, other_agent = await seeded(backend)
    later = make_instance(agent.agent_id, client.client_id, instance_id=NEW, first_seen_at=T0 + timedelta(hours=1))
    async with backend.uow() as uow:
        await uow.instances.add(later)
        await uow.instances.add(make_instance(agent.agent_id, client.client_id, instance_id=OLD))
        await uow.instances.add(
            make_instance(other_agent.agent_id, other_client.client_id, instance_id=OLD, az="us-east-1c")
        )
        await uow.commit()
    async with backend.uow() as uow:
        listed = await uow.instances.list_for_agent(agent.agent_id)
        mine = await uow.instances.get(client.client_id, OLD)
        theirs = await uow.instances.get(other_client.client_id, OLD)
        missing = await uow.instances.get(client.client_id, THIRD)
    assert [i.instance_id for i in listed] == [OLD, NEW]
    assert mine is not None
    assert theirs is not None
    assert (mine.az, theirs.az, mine.pool_id, missing) == ("us-east-1a", "us-east-1c", "t3.medium.us-east-1a", None)


async def test_in4_a_role_change_is_written_on_commit(backend: Backend) -> None:
    client, agent = await seeded(backend)
    async with backend.uow() as uow:
        await uow.instances.add(make_instance(agent.agent_id, client.client_id))
        await uow.commit()
    async with backend.uow() as uow:
        loaded = await uow.instances.get(client.client_id, OLD)
        assert loaded is not None
        loaded.keep_old(
            KeptReason.AWAITING_TERMINATION, T0 + timedelta(minutes=5), expected_at=T0 + timedelta(minutes=10)
        )
        await uow.commit()
    async with backend.uow() as uow:
        again = await uow.instances.get(client.client_id, OLD)
    assert again is not None
    assert (again.role, again.kept_reason, again.termination_expected_at) == (
        InstanceRole.KEPT_OLD,
        KeptReason.AWAITING_TERMINATION,
        T0 + timedelta(minutes=10),
    )


async def test_r7_sightings_are_added_found_and_deleted(backend: Backend) -> None:
    client, agent = await seeded(backend)
    async with backend.uow() as uow:
        await uow.sightings.add(make_sighting(agent, warned_on="2026-11-28"))
        await uow.commit()
    async with backend.uow() as uow:
        found = await uow.sightings.get(client.client_id, NEW)
        assert found is not None
        assert (found.az, found.warned_on) == ("us-east-1d", "2026-11-28")
        await uow.sightings.delete(found)
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.sightings.get(client.client_id, NEW) is None


# --- commands -------------------------------------------------------------------------------------------------------


async def test_commands_list_for_agent_holds_open_ones_and_terminal_ones_finished_since(backend: Backend) -> None:
    _, agent = await seeded(backend)
    _, other = await seeded(backend)
    pending = make_command(agent, command_id=CommandId(f"b-{new_id()}"), now=T0 + timedelta(minutes=2))
    delivered = make_command(agent, command_id=CommandId(f"a-{new_id()}"), now=T0 + timedelta(minutes=2))
    delivered.deliver(T0 + timedelta(minutes=3))
    old_done = make_command(agent, now=T0)
    old_done.complete(T0 + timedelta(minutes=1), "done")
    recent_fail = make_command(agent, now=T0 + timedelta(minutes=1))
    recent_fail.fail(T0 + timedelta(minutes=30), "failed")
    async with backend.uow() as uow:
        for command in (pending, delivered, old_done, recent_fail, make_command(other)):
            await uow.commands.add(command)
        await uow.commit()
    async with backend.uow() as uow:
        open_only = await uow.commands.list_for_agent(agent.agent_id)
        since = await uow.commands.list_for_agent(agent.agent_id, since=T0 + timedelta(minutes=30))
    assert [c.command_id for c in open_only] == [delivered.command_id, pending.command_id]
    assert [c.command_id for c in since] == [recent_fail.command_id, delivered.command_id, pending.command_id]
    assert [c.status for c in since] == [CommandStatus.FAILED, CommandStatus.DELIVERED, CommandStatus.PENDING]


async def test_cm7_commands_are_found_by_their_idempotency_key_per_agent(backend: Backend) -> None:
    _, agent = await seeded(backend)
    _, other = await seeded(backend)
    keyed = make_command(agent, idempotency_key="deploy-42")
    async with backend.uow() as uow:
        await uow.commands.add(keyed)
        await uow.commit()
    async with backend.uow() as uow:
        found = await uow.commands.find_by_idempotency_key(agent.agent_id, "deploy-42")
        foreign = await uow.commands.find_by_idempotency_key(other.agent_id, "deploy-42")
        by_id = await uow.commands.get(agent.agent_id, keyed.command_id)
        wrong_agent = await uow.commands.get(other.agent_id, keyed.command_id)
    assert found is not None
    assert found.command_id == keyed.command_id
    assert by_id is not None
    assert (by_id.target_pool_id, by_id.priority, by_id.expires_at) == (
        keyed.target_pool_id,
        keyed.priority,
        keyed.expires_at,
    )
    assert (foreign, wrong_agent) == (None, None)


async def test_cm3_delivery_and_pinning_are_written_on_commit(backend: Backend) -> None:
    _, agent = await seeded(backend)
    command = make_command(agent)
    async with backend.uow() as uow:
        await uow.commands.add(command)
        await uow.commit()
    async with backend.uow() as uow:
        loaded = await uow.commands.get(agent.agent_id, command.command_id)
        assert loaded is not None
        loaded.deliver(T0 + timedelta(seconds=10))
        loaded.pin(T0 + timedelta(seconds=20))
        await uow.commit()
    async with backend.uow() as uow:
        again = await uow.commands.get(agent.agent_id, command.command_id)
    assert again is not None
    assert (again.status, again.delivery_count, again.lease_pinned, again.lease_expires_at) == (
        CommandStatus.DELIVERED,
        1,
        True,
        T0 + timedelta(seconds=10 + 1020),
    )


# --- replicas, episodes ---------------------------------------------------------------------------------------------


async def test_replicas_list_non_terminal_unless_asked_and_are_found_by_instance(backend: Backend) -> None:
    _, agent = await seeded(backend)
    _, other = await seeded(backend)
    live = make_replica(agent, instance_id=NEW, status=ReplicaStatus.SYNCING, created_at=T0 + timedelta(minutes=1))
    ended = make_replica(agent, status=ReplicaStatus.FAILED)
    async with backend.uow() as uow:
        for replica in (live, ended, make_replica(other, instance_id=NEW)):
            await uow.replicas.add(replica)
        await uow.commit()
    async with backend.uow() as uow:
        current = await uow.replicas.list_for_agent(agent.agent_id)
        every = await uow.replicas.list_for_agent(agent.agent_id, include_terminal=True)
        by_instance = await uow.replicas.find_by_instance(agent.agent_id, NEW)
        foreign = await uow.replicas.get(other.agent_id, live.replica_id)
    assert [r.replica_id for r in current] == [live.replica_id]
    assert [r.replica_id for r in every] == [ended.replica_id, live.replica_id]
    assert by_instance is not None
    assert by_instance.replica_id == live.replica_id
    assert foreign is None


async def test_ep1_episodes_find_open_and_latest_for_instance(backend: Backend) -> None:
    _, agent = await seeded(backend)
    closed = make_episode(agent, state=EpisodeState.CLEARED, opened_at=T0)
    open_old = make_episode(agent, state=EpisodeState.TERMINATING, opened_at=T0 + timedelta(hours=1))
    open_new = make_episode(agent, instance_id=NEW, opened_at=T0 + timedelta(hours=2))
    async with backend.uow() as uow:
        for episode in (closed, open_old, open_new):
            await uow.episodes.add(episode)
        await uow.commit()
    async with backend.uow() as uow:
        every_open = await uow.episodes.find_open(agent.agent_id)
        on_old = await uow.episodes.find_open(agent.agent_id, OLD)
        latest_old = await uow.episodes.latest_for_instance(agent.agent_id, OLD)
        latest_third = await uow.episodes.latest_for_instance(agent.agent_id, THIRD)
        by_id = await uow.episodes.get(closed.episode_id)
    assert [e.episode_id for e in every_open] == [open_old.episode_id, open_new.episode_id]
    assert [e.episode_id for e in on_old] == [open_old.episode_id]
    assert latest_old is not None
    assert latest_old.episode_id == open_old.episode_id
    assert latest_third is None
    assert by_id is not None
    assert by_id.state is EpisodeState.CLEARED


# --- switches, events -----------------------------------------------------------------------------------------------


async def test_sw1_switches_are_found_by_new_instance_and_by_command(backend: Backend) -> None:
    _, agent = await seeded(backend)
    _, other = await seeded(backend)
    command_id = CommandId(new_id())
    switch = make_switch(agent, command_id=command_id, reported_prices={"on_demand": 0.0416, "new_spot": None})
    async with backend.uow() as uow:
        await uow.switches.add(switch)  # before the command it names: the flush orders them
        await uow.commands.add(make_command(agent, command_id=command_id))
        await uow.commit()
    async with backend.uow() as uow:
        found = await uow.switches.find_by_new_instance(agent.agent_id, NEW)
        foreign = await uow.switches.find_by_new_instance(other.agent_id, NEW)
        has_command = await uow.switches.exists_for_command(command_id)
        no_command = await uow.switches.exists_for_command(CommandId(new_id()))
    assert found is not None
    assert (found.switch_id, found.command_id, found.new.az, found.old.instance_id) == (
        switch.switch_id,
        command_id,
        "us-east-1d",
        OLD,
    )
    assert found.reported_prices == {"on_demand": 0.0416, "new_spot": None}
    assert (foreign, has_command, no_command) == (None, True, False)


async def test_nt4_a_repeated_notification_dedup_key_is_refused_per_client(backend: Backend) -> None:
    client, _ = await seeded(backend)
    other, _ = await seeded(backend)
    key = f"agent_registered:{new_id()}"
    async with backend.uow() as uow:
        first = await uow.events.add_notification(make_notification(client.client_id, key))
        again = await uow.events.add_notification(make_notification(client.client_id, key))
        elsewhere = await uow.events.add_notification(make_notification(other.client_id, key))
        await uow.commit()
    async with backend.uow() as uow:
        later = await uow.events.add_notification(make_notification(client.client_id, key))
        exists = await uow.events.notification_exists(client.client_id, key)
        unknown = await uow.events.notification_exists(client.client_id, f"other:{new_id()}")
    assert (first, again, elsewhere, later) == (True, False, True, False)
    assert (exists, unknown) == (True, False)


# --- ledger ---------------------------------------------------------------------------------------------------------


async def test_in8_open_entry_is_the_instances_one_open_entry(backend: Backend) -> None:
    client, agent = await seeded(backend)
    instance = make_instance(agent.agent_id, client.client_id)
    change = open_entry(instance, T0, T0 + timedelta(minutes=1))
    async with backend.uow() as uow:
        await uow.ledger.save(change.changed)  # before the instance it names: the flush orders them
        await uow.instances.add(instance)
        await uow.commit()
    async with backend.uow() as uow:
        opened = await uow.ledger.open_entry(client.client_id, OLD)
        assert opened is not None
        assert (opened.entry_id, opened.role, opened.started_at) == (
            change.changed[0].entry_id,
            InstanceRole.PRIMARY,
            T0,
        )
        split = split_entry(
            opened,
            T0 + timedelta(minutes=30),
            CloseReason.ROLE_CHANGE,
            T0 + timedelta(hours=1),
            role=InstanceRole.KEPT_OLD,
        )
        await uow.ledger.save(split.changed)
        await uow.commit()
    async with backend.uow() as uow:
        current = await uow.ledger.open_entry(client.client_id, OLD)
        assert current is not None
        assert (current.role, current.started_at) == (InstanceRole.KEPT_OLD, T0 + timedelta(minutes=30))
        await uow.ledger.save(
            close_entry(current, T0 + timedelta(minutes=40), CloseReason.TERMINATED, T0 + timedelta(hours=1)).changed
        )
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.ledger.open_entry(client.client_id, OLD) is None
        assert await uow.ledger.open_entry(ClientId(new_id()), OLD) is None


async def test_in8_after_a_flush_open_entry_sees_this_transactions_split(backend: Backend) -> None:
    """Reads see a transaction's own ledger changes once it flushed (the SQL adapter reads rows, not the tracker)."""
    client, agent = await seeded(backend)
    instance = make_instance(agent.agent_id, client.client_id)
    async with backend.uow() as uow:
        await uow.instances.add(instance)
        await uow.ledger.save(open_entry(instance, T0, T0).changed)
        await uow.commit()
    async with backend.uow() as uow:
        opened = await uow.ledger.open_entry(client.client_id, OLD)
        assert opened is not None
        split = split_entry(
            opened,
            T0 + timedelta(minutes=5),
            CloseReason.ROLE_CHANGE,
            T0 + timedelta(minutes=5),
            role=InstanceRole.KEPT_OLD,
        )
        await uow.ledger.save(split.changed)
        await uow.flush()
        current = await uow.ledger.open_entry(client.client_id, OLD)
    assert current is not None
    assert (current.role, current.started_at) == (InstanceRole.KEPT_OLD, T0 + timedelta(minutes=5))


# --- admin tokens, cleanup records ----------------------------------------------------------------------------------


async def test_admin_tokens_are_found_by_hash_only(backend: Backend) -> None:
    digest = new_id().replace("-", "") * 2  # 64 hex characters, like a SHA-256 digest
    async with backend.uow() as uow:
        assert not await uow.admin_tokens.exists(digest)
        await uow.admin_tokens.add(digest, digest[-4:], T0)
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.admin_tokens.exists(digest)
        assert not await uow.admin_tokens.exists(digest[::-1])


async def test_cleanup_records_are_found_by_agent_and_reported_time(backend: Backend) -> None:
    client, agent = await seeded(backend)
    record = CleanupRecord(
        record_id=new_id(),
        client_id=client.client_id,
        agent_id=agent.agent_id,
        received_at=T0,
        reported_at=T0 - timedelta(seconds=5),
        deleted_snapshots=2,
        deleted_amis=1,
        failed_count=0,
        body={"snapshots": {"deleted": ["snap-1", "snap-2"]}},
    )
    async with backend.uow() as uow:
        await uow.cleanups.add(record)
        await uow.commit()
    async with backend.uow() as uow:
        found = await uow.cleanups.find_by_reported_at(agent.agent_id, T0 - timedelta(seconds=5))
        missing = await uow.cleanups.find_by_reported_at(agent.agent_id, T0)
    assert found is not None
    assert (found.record_id, found.deleted_snapshots, found.body) == (record.record_id, 2, record.body)
    assert missing is None


# --- one transaction: references, locking reads, time precision -------------------------------------------------


async def test_ep1_rp6_an_episode_its_replica_and_fallback_command_are_stored_in_one_transaction(
    backend: Backend,
) -> None:
    """Rows naming each other go in one commit whatever the order they were added in (the flush orders them)."""
    _, agent = await seeded(backend)
    episode = make_episode(agent)
    replica = make_replica(agent, episode_id=episode.episode_id, status=ReplicaStatus.SYNCING)
    fallback = make_command(agent, episode_id=episode.episode_id)
    episode.replica_id, episode.fallback_command_id = replica.replica_id, fallback.command_id
    async with backend.uow() as uow:
        await uow.commands.add(fallback)
        await uow.replicas.add(replica)
        await uow.episodes.add(episode)
        await uow.commit()
    async with backend.uow() as uow:
        stored = await uow.episodes.get(episode.episode_id)
        attached = await uow.replicas.get(agent.agent_id, replica.replica_id)
        command = await uow.commands.get(agent.agent_id, fallback.command_id)
    assert stored is not None
    assert attached is not None
    assert command is not None
    assert (stored.replica_id, stored.fallback_command_id) == (replica.replica_id, fallback.command_id)
    assert (attached.episode_id, command.episode_id) == (episode.episode_id, episode.episode_id)


LOCKING_READS = {
    "get_for_update": lambda uow, a: uow.agents.get_for_update(a.client_id, a.agent_id),
    "get_for_update_skip_locked": lambda uow, a: uow.agents.get_for_update_skip_locked(a.client_id, a.agent_id),
    "get_for_update_bounded": lambda uow, a: uow.agents.get_for_update_bounded(a.client_id, a.agent_id, wait_seconds=2),
    "find_active_by_logical_id": lambda uow, a: uow.agents.find_active_by_logical_id(
        a.client_id, a.logical_agent_id, for_update=True
    ),
}


@pytest.mark.parametrize("read", LOCKING_READS.values(), ids=LOCKING_READS.keys())
async def test_cc3_a_locking_read_keeps_the_transactions_entity_and_its_changes(backend: Backend, read: Any) -> None:
    client, agent = await seeded(backend)
    async with backend.uow() as uow:
        seen = await uow.agents.get(client.client_id, agent.agent_id)
        assert seen is not None
        seen.hostname = "changed-before-the-lock"
        locked = await read(uow, agent)
        assert locked is seen
        assert locked.hostname == "changed-before-the-lock"
        await uow.commit()
    async with backend.uow() as uow:
        stored = await uow.agents.get(client.client_id, agent.agent_id)
    assert stored is not None
    assert stored.hostname == "changed-before-the-lock"


async def test_c2_times_keep_their_microseconds(backend: Backend) -> None:
    """C-2 on DATETIME(6) (MySQL/MariaDB): a UTC time reads back exactly as written, A7's compare-and-set relies on it."""
    client, agent = await seeded(backend)
    beat = T0 + timedelta(seconds=7, microseconds=123457)
    async with backend.uow() as uow:
        loaded = await uow.agents.get_for_update(client.client_id, agent.agent_id)
        assert loaded is not None
        loaded.last_heartbeat_at = beat
        await uow.commit()
    async with backend.uow() as uow:
        stored = await uow.agents.get(client.client_id, agent.agent_id)
    assert stored is not None
    assert stored.last_heartbeat_at == beat
    assert stored.last_heartbeat_at.tzinfo is not None


async def test_cc1_a_rollback_discards_the_changes_and_additions_made_before_it(backend: Backend) -> None:
    client, agent = await seeded(backend)
    command = make_command(agent)
    async with backend.uow() as uow:
        loaded = await uow.agents.get_for_update(client.client_id, agent.agent_id)
        assert loaded is not None
        loaded.hostname = "rolled-back"
        await uow.commands.add(command)
        await uow.rollback()
        await uow.commit()
    async with backend.uow() as uow:
        stored = await uow.agents.get(client.client_id, agent.agent_id)
        gone = await uow.commands.get(agent.agent_id, command.command_id)
    assert stored is not None
    assert (stored.hostname, gone) == (None, None)
