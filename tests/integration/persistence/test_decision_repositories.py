"""Contract of the decision-related repository methods: the in-memory fakes and the SQL adapter behave alike.

Covers ``decisions`` (DP-14, DP-15), ``signals.fleet_stats`` (§6.2, EP-8), ``commands.switch_activity`` (§6.2) and
``agents.list_evaluable_agents`` (§7.2). Runs on SQLite locally and on MariaDB when
``SPOTOPT_TEST_DATABASE_URL`` is set (CI).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.models.agents import AgentModel
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.adapters.persistence.models.commands import CommandModel
from spotopt.adapters.persistence.models.decisions import DecisionModel
from spotopt.adapters.persistence.models.interruptions import EpisodeModel, SignalModel
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.decisions.decision_inputs import rules_decision
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import Liveness
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.decisions.decision import Action, Decision
from spotopt.domain.decisions.estimation import PoolSnapshot, PoolStats
from spotopt.domain.decisions.inputs import DecisionInput, Trigger, Verdict
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.interruptions.values import EpisodeState, SignalKind
from spotopt.domain.shared.ids import AgentId, ClientId, CommandId
from spotopt.domain.shared.pools import Mode
from tests import services
from tests.factories.agents import make_client
from tests.factories.decisions import (
    CHEAP,
    CLIENT,
    CURRENT,
    NOW,
    OTHER,
    add_signal,
    make_agent,
    make_command,
    open_episode,
)
from tests.fakes.store import InMemoryStore
from tests.fakes.uow import InMemoryUnitOfWork
from tests.http_app import make_settings, reset_database

D = Decimal
_TABLES = [
    table_of(DecisionModel),
    table_of(SignalModel),
    table_of(CommandModel),
    table_of(EpisodeModel),
    table_of(AgentModel),
    table_of(ClientModel),
]
Fresh = Callable[[], Awaitable[UnitOfWork]]


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp: Path = tmp_path_factory.mktemp("decision-contract")
    url = services.test_database_url(tmp)
    reset_database(make_settings(url, tmp))
    return url


def port(uow: InMemoryUnitOfWork | SqlAlchemyUnitOfWork) -> UnitOfWork:
    return uow


@pytest.fixture(params=["in-memory", "sqlalchemy"])
async def fresh(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Fresh]:
    """``await fresh()`` opens a new unit of work (a new transaction on SQL) over one shared store."""
    if request.param == "in-memory":
        store = InMemoryStore()

        async def fake() -> UnitOfWork:
            return port(InMemoryUnitOfWork(store))

        yield fake
        return
    engine: AsyncEngine = create_engine(database_url)
    async with engine.begin() as conn:
        for table in _TABLES:
            await conn.execute(delete(table))
    sessions = create_sessionmaker(engine)
    opened: list[Any] = []

    async def real() -> UnitOfWork:
        while opened:  # one transaction at a time (SQLite takes the write lock at BEGIN)
            await opened.pop().close()
        session = sessions()
        opened.append(session)
        return port(SqlAlchemyUnitOfWork(session))

    yield real
    for session in opened:
        await session.close()
    await engine.dispose()


async def owners(uow: UnitOfWork, *agents: Agent, clients: tuple[str, ...] = (CLIENT,)) -> None:
    """The clients and agents the rows of a test name (their foreign keys), in the same transaction."""
    for client_id in clients:
        await uow.clients.add(make_client(client_id=ClientId(client_id)))
    for agent in agents:
        await uow.agents.add(agent)


def snapshot(pool_id: str, price: str) -> PoolSnapshot:
    az = pool_id.rpartition(".")[2]
    stats = PoolStats(t7=1, t30=2, r24=1, r7=1)
    return PoolSnapshot(
        pool_id, "t3.medium", "us-east-1", az, True, D(price), NOW - timedelta(minutes=5), D("0.95"), stats
    )


def make_decision(trigger: Trigger = Trigger.DECIDE_REQUEST, minutes: int = 0, **agent: Any) -> Decision:
    pools = (snapshot(CURRENT, "0.013100"), snapshot(CHEAP, "0.010000"), snapshot(OTHER, "0.012500"))
    a = make_agent(**agent)
    inp = DecisionInput(
        agent_id=a.agent_id, thresholds=a.thresholds, terminate_wait_seconds=300, mode=Mode.SPOT, pool_id=CURRENT,
        instance_type="t3.medium", region="us-east-1", az="us-east-1c", placement_since=NOW - timedelta(hours=9),
        baseline=D("0.041600"), pools=pools, placement_mismatch=True, trigger=trigger,
    )  # fmt: skip
    at = NOW + timedelta(minutes=minutes)
    return rules_decision(inp, PolicyDocument(price_freshness_minutes=120), at).with_ids(f"d-{trigger}-{minutes}")


async def test_dp14_stored_decision_reads_back_field_for_field(fresh: Fresh) -> None:
    decision = dataclasses.replace(make_decision(), command_id="c-1")
    uow = await fresh()
    await uow.decisions.add(decision)  # before the agent and the command it names: the flush orders them
    await owners(uow, make_agent())
    await uow.commands.add(make_command(make_agent(), command_id=CommandId("c-1")))
    await uow.commit()

    loaded = await (await fresh()).decisions.get(str(decision.decision_id))
    assert loaded == decision
    assert loaded is not None
    assert loaded.action is Action.SWITCH_POOL
    assert loaded.candidates[0].verdict is Verdict.ELIGIBLE
    assert loaded.flags == ("placement_mismatch",)
    assert await (await fresh()).decisions.get("missing") is None


async def test_dp14_latest_for_agent_by_time_and_trigger(fresh: Fresh) -> None:
    uow = await fresh()
    await owners(uow, make_agent(), make_agent(agent_id=AgentId("agent-2")))
    for decision in (
        make_decision(Trigger.EVALUATOR, 0),
        make_decision(Trigger.EVALUATOR, 5),
        make_decision(Trigger.RECOMMENDATION_REQUEST, 7),
        make_decision(Trigger.EVALUATOR, 9, agent_id=AgentId("agent-2")),
    ):
        await uow.decisions.add(decision)
    await uow.commit()

    reader = await fresh()
    latest = await reader.decisions.latest_for_agent(AgentId("agent-1"))
    evaluator = await reader.decisions.latest_for_agent(AgentId("agent-1"), trigger=Trigger.EVALUATOR)
    assert latest is not None
    assert evaluator is not None
    assert (latest.trigger, latest.evaluated_at) == (Trigger.RECOMMENDATION_REQUEST, NOW + timedelta(minutes=7))
    assert evaluator.evaluated_at == NOW + timedelta(minutes=5)
    assert await reader.decisions.latest_for_agent(AgentId("agent-9")) is None


async def test_ep8_fleet_stats_count_distinct_instances_per_window_fleet_wide(fresh: Fresh) -> None:
    uow = await fresh()
    notices = [
        ("i-00000000000000001", timedelta(hours=1)),
        ("i-00000000000000001", timedelta(hours=2)),  # same instance: counted once
        ("i-00000000000000002", timedelta(days=3)),
        ("i-00000000000000003", timedelta(days=20)),
        ("i-00000000000000004", timedelta(days=31)),  # outside 30 d
        ("i-00000000000000005", timedelta(minutes=-1)),  # after now: not yet known
    ]
    reporters = [make_agent(agent_id=AgentId(f"agent-{i}"), client_id=ClientId(f"client-{i}")) for i in range(6)]
    await owners(
        uow,
        *reporters,
        make_agent(agent_id=AgentId("agent-x"), client_id=ClientId("client-elsewhere")),
        make_agent(agent_id=AgentId("agent-elsewhere"), client_id=ClientId("client-elsewhere")),
        clients=(*(r.client_id for r in reporters), "client-elsewhere"),
    )
    for reporter, (instance, age) in zip(reporters, notices, strict=True):
        await add_signal(
            uow, CHEAP, instance_id=instance, received_at=NOW - age, agent_id=reporter.agent_id,
            client_id=reporter.client_id,
        )  # fmt: skip
    await add_signal(uow, CHEAP, kind=SignalKind.REBALANCE, instance_id=None, agent_id="agent-x")
    await add_signal(uow, CHEAP, kind=SignalKind.REBALANCE, instance_id=None, agent_id="agent-x")
    await add_signal(uow, CHEAP, kind=SignalKind.REBALANCE, received_at=NOW - timedelta(days=2))
    await add_signal(uow, OTHER, kind=SignalKind.REBALANCE, received_at=NOW - timedelta(days=40))
    await add_signal(uow, CURRENT, received_at=NOW - timedelta(hours=30))
    await uow.commit()

    stats = await (await fresh()).signals.fleet_stats([CHEAP, OTHER, CURRENT, "t3.medium.us-east-1f"], NOW)
    assert stats == {
        CHEAP: PoolStats(t24=1, t7=2, t30=3, r24=1, r7=2, last_notice_at=NOW - timedelta(hours=1)),
        CURRENT: PoolStats(t24=0, t7=1, t30=1, last_notice_at=NOW - timedelta(hours=30)),
    }
    assert await (await fresh()).signals.fleet_stats([], NOW) == {}


async def test_s6_2_switch_activity_counts_unfailed_non_emergency_deliveries(fresh: Fresh) -> None:
    agent = make_agent()
    other = make_agent(agent_id=AgentId("agent-2"))

    def at(hours: float) -> Any:
        return NOW - timedelta(hours=hours)

    uow = await fresh()
    await owners(uow, agent, other)
    for command in (
        make_command(agent, status=CommandStatus.COMPLETED, delivered_at=at(30), completed_at=at(29)),
        make_command(agent, status=CommandStatus.DELIVERED, delivered_at=at(2)),
        make_command(agent, status=CommandStatus.FAILED, delivered_at=at(5), completed_at=at(4)),
        make_command(
            agent,
            origin=CommandOrigin.EMERGENCY,
            status=CommandStatus.COMPLETED,
            delivered_at=at(6),
            completed_at=at(1),
        ),
        make_command(agent, status=CommandStatus.COMPLETED, delivered_at=at(24 * 8), completed_at=at(24 * 8)),
        make_command(agent, status=CommandStatus.CANCELLED, completed_at=at(0.5)),
        make_command(agent, status=CommandStatus.PENDING),
        make_command(other, status=CommandStatus.COMPLETED, delivered_at=at(3), completed_at=at(0.1)),
    ):
        await uow.commands.add(command)
    await uow.commit()

    activity = await (await fresh()).commands.switch_activity(agent.agent_id, NOW - timedelta(days=7))
    assert activity.delivered_at == (at(30), at(2))
    # The latest completion or failure of any switch (emergency included); cancellations are no move.
    assert activity.last_finished_at == at(1)


async def test_s7_2_evaluable_agents_filter_and_page_by_agent_id(fresh: Fresh) -> None:
    flags: dict[str, dict[str, Any]] = {
        "agent-1": {},
        "agent-2": {},
        "agent-3": {"enabled": False},
        "agent-4": {"auto_switch_enabled": False, "manual_replica_enabled": True},
        "agent-5": {"liveness": Liveness.OFFLINE},
        "agent-6": {},
        "agent-7": {},
        "agent-8": {},
        "agent-9": {},
    }
    agents = {
        name: make_agent(agent_id=AgentId(name), logical_agent_id=f"web-{name}", **values)
        for name, values in flags.items()
    }
    agents["agent-9"].delete(NOW)
    uow = await fresh()
    await owners(uow, *agents.values())
    await uow.episodes.add(open_episode(agents["agent-6"]))
    closed = open_episode(agents["agent-2"])
    closed.close(EpisodeState.CLEARED, NOW, "rebalance_expired")
    await uow.episodes.add(closed)
    await uow.commands.add(make_command(agents["agent-7"], status=CommandStatus.DELIVERED, delivered_at=NOW))
    await uow.commands.add(make_command(agents["agent-8"], status=CommandStatus.COMPLETED, completed_at=NOW))
    await uow.commit()

    reader = await fresh()
    assert [r.agent_id for r in await reader.agents.list_evaluable_agents(10)] == ["agent-1", "agent-2", "agent-8"]
    page = await reader.agents.list_evaluable_agents(1, after=AgentId("agent-1"))
    assert [(r.client_id, r.agent_id) for r in page] == [("client-1", "agent-2")]
