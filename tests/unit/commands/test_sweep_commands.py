"""The command sweeper (domain §7.2 "Command sweeper"; K3, K6, K9, §8.2 N-switch-failed, CC-4, JB-5)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from spotopt.application.commands.sweep_commands import SweepCommands, SweepCommandsCommand, SweepCommandsResult
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import Lifecycle
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.queue import COMPLETED_WITHOUT_ACK_MESSAGE, NOT_ACKNOWLEDGED_MESSAGE
from spotopt.domain.commands.values import CommandOrigin, CommandStatus, CommandType
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_agent
from tests.factories.commands import make_command
from tests.factories.common import T0
from tests.factories.ledger import port
from tests.fakes.agents import InMemoryAgentRepository
from tests.fakes.store import InMemoryStore
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork, InScope

CLIENT = ClientId("client-1")


class LockedAgents(InMemoryAgentRepository):
    def __init__(self, store: InMemoryStore, locked: set[str]) -> None:
        super().__init__(store)
        self.locked = locked

    async def get_for_update_skip_locked(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return None if agent_id in self.locked else await super().get_for_update_skip_locked(client_id, agent_id)


def setup(**agent: Any) -> tuple[InMemoryUnitOfWork, Agent]:
    uow = InMemoryUnitOfWork()
    owner = make_agent(CLIENT, hostname="web-1", **agent)
    uow.store.agents[owner.agent_id] = owner
    return uow, owner


def add(uow: InMemoryUnitOfWork, agent: Agent, **overrides: Any) -> AgentCommand:
    command = make_command(agent, **overrides)
    uow.store.commands[command.command_id] = command
    return command


def delivered(
    uow: InMemoryUnitOfWork, agent: Agent, *, count: int, lease_end: timedelta, **overrides: Any
) -> AgentCommand:
    """Delivered ``count`` times; its lease ends ``lease_end`` after T0."""
    return add(
        uow, agent, status=CommandStatus.DELIVERED, delivered_at=T0, delivery_count=count,
        lease_expires_at=T0 + lease_end, **overrides,
    )  # fmt: skip


async def sweep(uow: InMemoryUnitOfWork, elapsed: timedelta, **command: Any) -> SweepCommandsResult:
    sut = InScope(SweepCommands(port(uow), FixedClock(T0 + elapsed)).execute, uow)
    return await sut.execute(SweepCommandsCommand(**command))


async def test_domain_k3_expired_pending_command_is_cancelled() -> None:
    uow, agent = setup()
    command = add(uow, agent)  # automatic: 15 min TTL

    early = await sweep(uow, timedelta(minutes=14))
    late = await sweep(uow, timedelta(minutes=15))

    assert early.expired == 0
    assert late.expired == 1
    assert (command.status, command.cancel_reason, command.cancelled_at) == (
        CommandStatus.CANCELLED,
        "expired",
        T0 + timedelta(minutes=15),
    )
    assert uow.store.events == []


async def test_domain_k3_emergency_command_is_not_expired_before_its_own_expires_at() -> None:
    uow, agent = setup()
    command = add(uow, agent, origin=CommandOrigin.EMERGENCY, deadline=T0 + timedelta(minutes=2))

    await sweep(uow, timedelta(minutes=2, seconds=59))
    before = command.status
    await sweep(uow, timedelta(minutes=3))

    assert (before, command.status) == (CommandStatus.PENDING, CommandStatus.CANCELLED)


async def test_domain_k6_third_lapsed_lease_fails_the_switch_with_event_and_notification() -> None:
    uow, agent = setup()
    command = delivered(
        uow, agent, count=3, lease_end=timedelta(minutes=7), target_mode=Mode.ONDEMAND, target_pool_id=None
    )

    result = await sweep(uow, timedelta(minutes=7))
    again = await sweep(uow, timedelta(minutes=8))

    assert (result.unacknowledged, again.agents) == (1, 0)
    assert (command.status, command.message) == (CommandStatus.FAILED, NOT_ACKNOWLEDGED_MESSAGE)
    [event] = uow.store.events
    assert (event.type, event.severity.value, event.agent_id) == ("switch_failed", "warning", agent.agent_id)
    assert event.metadata["command_id"] == command.command_id
    [notification] = uow.store.notifications.values()
    assert (notification.type, notification.dedup_key) == ("switch-failed", f"switch_failed:{command.command_id}")
    assert notification.message == f"web-1: switch to on-demand failed: {NOT_ACKNOWLEDGED_MESSAGE}."


async def test_domain_k6_create_replica_command_fails_without_a_switch_notification() -> None:
    uow, agent = setup()
    command = delivered(uow, agent, count=3, lease_end=timedelta(minutes=12), type=CommandType.CREATE_REPLICA)

    result = await sweep(uow, timedelta(minutes=12))

    assert (result.unacknowledged, command.status) == (1, CommandStatus.FAILED)
    assert uow.store.events == []


async def test_delivered_commands_are_never_cancelled_or_handed_out_by_the_sweeper() -> None:
    uow, agent = setup()
    in_lease = delivered(uow, agent, count=1, lease_end=timedelta(minutes=7))
    lapsed_once = delivered(uow, agent, count=2, lease_end=timedelta(minutes=1), idempotency_key="b")

    result = await sweep(uow, timedelta(minutes=30))  # both far past their TTL

    assert (result.expired, result.unacknowledged) == (0, 0)
    assert in_lease.status is lapsed_once.status is CommandStatus.DELIVERED
    assert (in_lease.delivery_count, lapsed_once.delivery_count) == (1, 2)
    assert uow.commits == 0


async def test_domain_k9_pinned_command_completes_two_hours_after_pinning() -> None:
    uow, agent = setup()
    command = delivered(uow, agent, count=1, lease_end=timedelta(minutes=7), lease_pinned=True, pinned_at=T0)

    before = await sweep(uow, timedelta(hours=2) - timedelta(seconds=1))
    after = await sweep(uow, timedelta(hours=2))

    assert (before.completed_unacknowledged, after.completed_unacknowledged) == (0, 1)
    assert (command.status, command.message) == (CommandStatus.COMPLETED, COMPLETED_WITHOUT_ACK_MESSAGE)
    assert uow.store.events == []


async def test_cc4_agent_locked_elsewhere_is_skipped_until_the_next_tick() -> None:
    uow, agent = setup()
    command = add(uow, agent)
    uow.agents = LockedAgents(uow.store, {agent.agent_id})

    skipped = await sweep(uow, timedelta(minutes=20))
    uow.agents = InMemoryAgentRepository(uow.store)
    swept = await sweep(uow, timedelta(minutes=20, seconds=30))

    assert (skipped.skipped, skipped.expired) == ((agent.agent_id,), 0)
    assert (swept.expired, command.status) == (1, CommandStatus.CANCELLED)


async def test_deleted_agents_are_not_touched() -> None:
    uow, agent = setup(lifecycle=Lifecycle.DELETED)
    command = add(uow, agent)

    result = await sweep(uow, timedelta(hours=1))

    assert (result.skipped, command.status) == ((agent.agent_id,), CommandStatus.PENDING)


async def test_jb5_agents_are_swept_in_bounded_batches() -> None:
    uow = InMemoryUnitOfWork()
    agents = sorted((make_agent(CLIENT) for _ in range(3)), key=lambda a: a.agent_id)
    for agent in agents:
        uow.store.agents[agent.agent_id] = agent
        add(uow, agent)

    first = await sweep(uow, timedelta(hours=1), limit=2)
    second = await sweep(uow, timedelta(hours=1), limit=2, after=first.next_after)

    assert (first.agents, first.expired, first.next_after) == (2, 2, agents[1].agent_id)
    assert (second.agents, second.expired, second.next_after) == (1, 1, None)
