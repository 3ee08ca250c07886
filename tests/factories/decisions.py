"""Builders for the decision use-case tests: an agent on spot in t3.medium.us-east-1c and a priced market."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, cast

from spotopt.adapters.decision_engine import RulesDecisionEngine
from spotopt.adapters.policy_store import BuiltinPolicyStore
from spotopt.application.decisions.decision_inputs import DecisionInputs
from spotopt.application.ports.interruptions import SignalRepository
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import Liveness
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch_planning import make_switch_command
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.interruptions.episode import InterruptionEpisode, InterruptionSignal
from spotopt.domain.interruptions.values import AttributedRole, EpisodeState, SignalKind
from spotopt.domain.pricing.buckets import CleanPriceBucket, DataSource
from spotopt.domain.pricing.market import OnDemandPrice, SpotPool
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.ids import AgentId, ClientId, EpisodeId, InstanceId, new_id
from spotopt.domain.shared.pools import Mode
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CLIENT = ClientId("client-1")
TYPE = "t3.medium"
REGION = "us-east-1"
CURRENT = "t3.medium.us-east-1c"
CHEAP = "t3.medium.us-east-1b"
OTHER = "t3.medium.us-east-1a"
PRIMARY = InstanceId("i-0123456789abcdef0")
D = Decimal
ONDEMAND = D("0.041600")


def make_agent(**overrides: Any) -> Agent:
    values: dict[str, Any] = {
        "agent_id": AgentId("agent-1"),
        "client_id": CLIENT,
        "logical_agent_id": "web-1",
        "created_at": NOW - timedelta(days=3),
        "updated_at": NOW - timedelta(days=3),
        "hostname": "web-1.example",
        "primary_instance_id": PRIMARY,
        "instance_type": TYPE,
        "region": REGION,
        "az": "us-east-1c",
        "mode": Mode.SPOT,
        "pool_id": CURRENT,
        "placement_since": NOW - timedelta(hours=10),
        "last_heartbeat_at": NOW - timedelta(seconds=20),
        "liveness": Liveness.ONLINE,
    }
    values.update(overrides)
    if "logical_agent_id" not in overrides and values["agent_id"] != "agent-1":
        values["logical_agent_id"] = f"web-{values['agent_id']}"  # AG-1: one active agent per logical id
    return Agent(**values)


def make_bucket(
    pool_id: str, price: Decimal, *, start: datetime | None = None, confidence: str = "1.00"
) -> CleanPriceBucket:
    az = pool_id.rpartition(".")[2]
    return CleanPriceBucket(
        pool_id=pool_id,
        instance_type=pool_id.rpartition(".")[0],
        region=REGION,
        az=az,
        bucket_start=start or NOW - timedelta(minutes=5),
        spot_price=price,
        source_type=SourceType.PRIMARY,
        confidence=D(confidence),
        data_source=DataSource.MEASURED,
        created_at=NOW,
        updated_at=NOW,
    )


async def seed_market(
    uow: InMemoryUnitOfWork,
    prices: dict[str, Decimal] | None = None,
    *,
    ondemand: Decimal | None = ONDEMAND,
    last_seen: datetime | None = None,
) -> None:
    """Catalogue pools with a fresh measured bucket each (PR-23/PR-24) and the on-demand price (PR-26)."""
    prices = {CURRENT: D("0.013100"), CHEAP: D("0.010000"), OTHER: D("0.012500")} if prices is None else prices
    for pool_id, price in prices.items():
        az = pool_id.rpartition(".")[2]
        seen = last_seen or NOW - timedelta(hours=1)
        await uow.pricing.add_pool(
            SpotPool(
                pool_id,
                pool_id.rpartition(".")[0],
                REGION,
                az,
                first_seen_at=NOW - timedelta(days=9),
                last_seen_at=seen,
            )
        )
        uow.buckets.put(make_bucket(pool_id, price))
    if ondemand is not None:
        await uow.pricing.add_ondemand(OnDemandPrice(TYPE, REGION, ondemand, "catalogue", NOW - timedelta(days=1)))
    await uow.commit_setup()


class WithSignals(Protocol):
    @property
    def signals(self) -> SignalRepository: ...


async def add_signal(
    uow: WithSignals,
    pool_id: str,
    *,
    kind: SignalKind = SignalKind.TERMINATION,
    instance_id: str | None = "i-00000000000000001",
    received_at: datetime | None = None,
    agent_id: str = "agent-elsewhere",
    client_id: str = "client-elsewhere",
) -> None:
    await uow.signals.add(
        InterruptionSignal(
            signal_id=new_id(),
            client_id=ClientId(client_id),
            agent_id=AgentId(agent_id),
            kind=kind,
            received_at=received_at or NOW - timedelta(hours=1),
            attributed_role=AttributedRole.PRIMARY,
            instance_id=InstanceId(instance_id) if instance_id else None,
            pool_id=pool_id,
        )
    )


def make_command(
    agent: Agent,
    *,
    origin: CommandOrigin = CommandOrigin.API,
    target_pool_id: str | None = CHEAP,
    status: CommandStatus = CommandStatus.PENDING,
    created_at: datetime | None = None,
    delivered_at: datetime | None = None,
    completed_at: datetime | None = None,
    priority: int | None = None,
    **kwargs: Any,
) -> AgentCommand:
    created = created_at or delivered_at or NOW - timedelta(minutes=1)
    extra: dict[str, Any] = {"deadline": created + timedelta(minutes=2)} if origin is CommandOrigin.EMERGENCY else {}
    command = make_switch_command(
        agent,
        origin=origin,
        target_mode=Mode.SPOT if target_pool_id else Mode.ONDEMAND,
        target_pool_id=target_pool_id,
        now=created,
        priority=priority,
        **extra,
        **kwargs,
    )
    command.status = status
    command.delivered_at = delivered_at
    command.delivery_count = 1 if delivered_at else 0
    command.completed_at = completed_at
    return command


def open_episode(agent: Agent) -> InterruptionEpisode:
    return InterruptionEpisode(
        episode_id=EpisodeId(new_id()),
        client_id=agent.client_id,
        agent_id=agent.agent_id,
        instance_id=PRIMARY,
        state=EpisodeState.AT_RISK,
        opened_at=NOW - timedelta(minutes=3),
        pool_id=agent.pool_id,
    )


def wiring(uow: InMemoryUnitOfWork, policy: PolicyDocument | None = None) -> dict[str, Any]:
    """The collaborators every decision use case takes, over the fake unit of work."""
    return {
        "uow": uow,
        "clock": FixedClock(NOW),
        "policies": BuiltinPolicyStore(policy),
        # The fake matches the port structurally; mypy treats the port's plain (settable) repository attributes
        # as invariant, so the concrete fake repository types need the cast.
        "inputs": DecisionInputs(cast("UnitOfWork", uow)),
    }


ENGINE = RulesDecisionEngine()
