from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.agents.mark_stale_agents_offline import MarkStaleAgentsOffline, MarkStaleAgentsOfflineResult
from spotopt.application.agents.timings import AgentTimings
from spotopt.application.errors import ConflictError
from spotopt.domain.agents.agent import Agent, Thresholds
from spotopt.domain.agents.values import Lifecycle, Liveness
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import AgentId, ClientId
from tests.fakes.agents import InMemoryAgentRepository
from tests.fakes.notifications import InMemoryEventRepository
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork, InScope

CLIENT = ClientId("client-1")
TIMEOUT = 120


def make_agent(**overrides: Any) -> Agent:
    now: datetime = overrides.pop("now", FixedClock().now())
    values: dict[str, Any] = {
        "agent_id": AgentId("agent-1"),
        "client_id": CLIENT,
        "logical_agent_id": "web-1",
        "created_at": now - timedelta(days=1),
        "updated_at": now - timedelta(days=1),
        "hostname": "web-1.internal",
        "last_heartbeat_at": now - timedelta(seconds=TIMEOUT + 1),
    }
    values.update(overrides)
    if "logical_agent_id" not in overrides and values["agent_id"] != "agent-1":
        values["logical_agent_id"] = f"web-{values['agent_id']}"  # AG-1: one active agent per logical id
    return Agent(**values)


def make_sut(uow: InMemoryUnitOfWork, clock: FixedClock) -> InScope[[], MarkStaleAgentsOfflineResult]:
    return InScope(MarkStaleAgentsOffline(uow, clock, AgentTimings(heartbeat_timeout=TIMEOUT)).execute, uow)


def notifications(uow: InMemoryUnitOfWork) -> list[Notification]:
    return list(uow.store.notifications.values())


async def test_domain_a7_silent_online_agent_goes_offline_with_event_and_notification(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    last = clock.now() - timedelta(seconds=150, microseconds=250_000)
    agent = make_agent(last_heartbeat_at=last)
    await uow.agents.add(agent)

    result = await make_sut(uow, clock).execute()

    assert result.marked_offline == (agent.agent_id,)
    assert agent.liveness is Liveness.OFFLINE
    assert agent.liveness_changed_at == clock.now()
    assert agent.offline_notified is True
    assert agent.last_heartbeat_at == last
    [event] = uow.store.events
    assert (event.type, event.severity, event.agent_id, event.client_id) == (
        "agent_offline",
        Severity.WARNING,
        agent.agent_id,
        CLIENT,
    )
    [notification] = notifications(uow)
    assert notification.type == "agent-offline"
    assert notification.severity is Severity.WARNING
    assert notification.title == "Agent offline"
    assert notification.message == (
        "Agent web-1.internal has sent no heartbeat for 150 s (last at 2026-11-28T08:57:29Z)."
    )
    assert notification.dedup_key == "agent_offline:agent-1:2026-11-28T08:57:29Z"
    assert uow.commits == 1


async def test_domain_a7_message_names_the_logical_id_when_the_hostname_is_unknown(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    await uow.agents.add(make_agent(hostname=None, logical_agent_id="batch-7"))

    await make_sut(uow, clock).execute()

    assert notifications(uow)[0].message.startswith("Agent batch-7 has sent no heartbeat for 121 s")


async def test_domain_a7_heartbeat_at_the_timeout_or_newer_keeps_the_agent_online(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    exact = make_agent(agent_id=AgentId("exact"), last_heartbeat_at=clock.now() - timedelta(seconds=TIMEOUT))
    fresh = make_agent(agent_id=AgentId("fresh"), last_heartbeat_at=clock.now() - timedelta(seconds=5))
    for agent in (exact, fresh):
        await uow.agents.add(agent)

    result = await make_sut(uow, clock).execute()

    assert result.marked_offline == ()
    assert {exact.liveness, fresh.liveness} == {Liveness.ONLINE}
    assert uow.store.events == []


async def test_domain_a7_never_touches_deleted_agents(uow: InMemoryUnitOfWork, clock: FixedClock) -> None:
    deleted = make_agent(lifecycle=Lifecycle.DELETED, deleted_at=clock.now() - timedelta(hours=1))
    await uow.agents.add(deleted)

    result = await make_sut(uow, clock).execute()

    assert result == type(result)()
    assert deleted.liveness is Liveness.ONLINE
    assert deleted.offline_notified is False
    assert uow.store.events == []
    assert notifications(uow) == []


async def test_domain_a7_never_changes_enabled_or_settings(uow: InMemoryUnitOfWork, clock: FixedClock) -> None:
    thresholds = Thresholds(min_savings_percent=Decimal("20.00"))
    agent = make_agent(enabled=False, auto_switch_enabled=False, thresholds=thresholds, terminate_wait_seconds=600)
    await uow.agents.add(agent)

    await make_sut(uow, clock).execute()

    assert agent.liveness is Liveness.OFFLINE
    assert (agent.enabled, agent.auto_switch_enabled, agent.thresholds, agent.terminate_wait_seconds) == (
        False,
        False,
        thresholds,
        600,
    )


class HeartbeatRacingRepository(InMemoryAgentRepository):
    """A heartbeat lands between the monitor's read and its lock (CC-6 heartbeats do not lock)."""

    async def get_for_update_skip_locked(self, client_id: ClientId, agent_id: str) -> Agent | None:
        agent = await super().get_for_update_skip_locked(client_id, agent_id)
        if agent is not None and agent.last_heartbeat_at is not None:
            agent.last_heartbeat_at += timedelta(seconds=90)
        return agent


async def test_domain_a7_compare_and_set_leaves_an_agent_whose_heartbeat_is_newer_than_read(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    agent = make_agent(last_heartbeat_at=clock.now() - timedelta(seconds=200))
    await uow.agents.add(agent)
    uow.agents = HeartbeatRacingRepository(uow.store)

    result = await make_sut(uow, clock).execute()

    assert result.skipped == (agent.agent_id,)
    assert agent.liveness is Liveness.ONLINE
    assert agent.offline_notified is False
    assert uow.store.events == []
    assert uow.commits == 0


class BusyRepository(InMemoryAgentRepository):
    """Every row is locked by a request (SKIP LOCKED finds nothing)."""

    async def get_for_update_skip_locked(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return None


async def test_cc4_agent_locked_by_a_request_is_skipped_until_the_next_tick(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    agent = make_agent()
    await uow.agents.add(agent)
    await uow.commit_setup()
    real = uow.agents
    uow.agents = BusyRepository(uow.store)

    busy = await make_sut(uow, clock).execute()
    uow.agents = real
    clock.advance(seconds=30)
    free = await make_sut(uow, clock).execute()

    assert busy.skipped == (agent.agent_id,)
    assert free.marked_offline == (agent.agent_id,)
    assert agent.liveness is Liveness.OFFLINE


async def test_domain_a7_one_offline_period_notifies_once_even_when_the_monitor_repeats(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    agent = make_agent()
    await uow.agents.add(agent)
    sut = make_sut(uow, clock)

    await sut.execute()
    clock.advance(seconds=30)
    again = await sut.execute()

    assert again.marked_offline == ()
    assert len(notifications(uow)) == 1
    assert uow.event_types() == ["agent_offline"]


async def test_nt4_a_repeated_cause_creates_no_second_notification(uow: InMemoryUnitOfWork, clock: FixedClock) -> None:
    agent = make_agent()
    await uow.agents.add(agent)
    await make_sut(uow, clock).execute()
    # the same offline period seen again, e.g. liveness restored without a new heartbeat
    agent.liveness = Liveness.ONLINE

    await make_sut(uow, clock).execute()

    assert len(notifications(uow)) == 1


async def test_domain_a7_a_new_offline_period_notifies_again(uow: InMemoryUnitOfWork, clock: FixedClock) -> None:
    agent = make_agent()
    await uow.agents.add(agent)
    await make_sut(uow, clock).execute()
    agent.last_heartbeat_at = clock.advance(minutes=10)  # back online (A5), then silent again
    agent.liveness = Liveness.ONLINE
    clock.advance(seconds=TIMEOUT + 30)

    await make_sut(uow, clock).execute()

    keys = sorted(n.dedup_key for n in notifications(uow))
    assert keys == ["agent_offline:agent-1:2026-11-28T08:57:59Z", "agent_offline:agent-1:2026-11-28T09:10:00Z"]


async def test_cc4_each_agent_is_its_own_transaction(uow: InMemoryUnitOfWork, clock: FixedClock) -> None:
    for index in range(3):
        await uow.agents.add(make_agent(agent_id=AgentId(f"agent-{index}")))

    result = await make_sut(uow, clock).execute()

    assert len(result.marked_offline) == 3
    assert uow.commits == 3


async def test_jb5_a_run_takes_the_oldest_agents_first_and_stops_at_its_batch(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    for age in (300, 500, 400):
        await uow.agents.add(
            make_agent(agent_id=AgentId(f"age-{age}"), last_heartbeat_at=clock.now() - timedelta(seconds=age))
        )
    monitor = MarkStaleAgentsOffline(uow, clock, AgentTimings(heartbeat_timeout=TIMEOUT))
    monitor.BATCH_SIZE = 2
    sut = InScope(monitor.execute, uow)

    first = await sut.execute()
    second = await sut.execute()

    assert first.marked_offline == (AgentId("age-500"), AgentId("age-400"))
    assert second.marked_offline == (AgentId("age-300"),)


class FailingEvents(InMemoryEventRepository):
    async def add_notification(self, notification: Notification) -> bool:
        if notification.agent_id == "broken":
            raise ConflictError("The change conflicts with existing data")
        return await super().add_notification(notification)


async def test_jb3_a_failing_agent_is_rolled_back_and_the_others_proceed(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    await uow.agents.add(make_agent(agent_id=AgentId("broken"), last_heartbeat_at=clock.now() - timedelta(hours=1)))
    await uow.agents.add(make_agent(agent_id=AgentId("fine")))
    await uow.commit_setup()
    uow.events = FailingEvents(uow.store)

    result = await make_sut(uow, clock).execute()

    assert result.failed == (AgentId("broken"),)
    assert result.marked_offline == (AgentId("fine"),)
    assert uow.rollbacks >= 1
    assert [n.agent_id for n in notifications(uow)] == ["fine"]


agent_states = st.tuples(
    st.integers(min_value=0, max_value=1_000),
    st.sampled_from(list(Liveness)),
    st.sampled_from(list(Lifecycle)),
)


@given(st.lists(agent_states, min_size=1, max_size=8))
async def test_domain_a7_property_exactly_the_stale_online_active_agents_go_offline_once(
    states: list[tuple[int, Liveness, Lifecycle]],
) -> None:
    clock = FixedClock()
    uow = InMemoryUnitOfWork()
    agents = [
        make_agent(
            agent_id=AgentId(f"a{i}"),
            last_heartbeat_at=clock.now() - timedelta(seconds=age),
            liveness=live,
            lifecycle=life,
        )
        for i, (age, live, life) in enumerate(states)
    ]
    for agent in agents:
        await uow.agents.add(agent)
    await uow.commit_setup()
    expected = {
        a.agent_id for a, (age, live, life) in zip(agents, states, strict=True)
        if age > TIMEOUT and live is Liveness.ONLINE and life is Lifecycle.ACTIVE
    }  # fmt: skip

    sut = make_sut(uow, clock)
    first = await sut.execute()
    second = await sut.execute()

    assert set(first.marked_offline) == expected
    assert second.marked_offline == ()
    assert {n.agent_id for n in notifications(uow)} == expected
    assert len(notifications(uow)) == len(expected)
    for agent, (_, live, _) in zip(agents, states, strict=True):
        assert agent.liveness is (Liveness.OFFLINE if agent.agent_id in expected else live)
