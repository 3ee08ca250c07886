"""Builders for the pricing pipeline tests: agents and instances that report, submissions, buckets, pools."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from spotopt.application.pricing.record_pricing_report import RecordPricingReportCommand, ReportedInstance, ReportedPool
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceOrigin, InstanceRole
from spotopt.domain.pricing.buckets import CleanPriceBucket, DataSource, bucket_start
from spotopt.domain.pricing.market import PricingSubmission, SpotPool
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId, new_id
from spotopt.domain.shared.pools import Mode
from tests.fakes.uow import InMemoryUnitOfWork

CLIENT = ClientId("client-1")
AGENT = AgentId("agent-1")
PRIMARY = InstanceId("i-0a1b2c3d4e5f67890")
T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
TYPE, REGION = "t3.medium", "us-east-1"


def pool(az_letter: str, instance_type: str = TYPE, region: str = REGION) -> str:
    return f"{instance_type}.{region}{az_letter}"


def make_agent(**overrides: Any) -> Agent:
    values: dict[str, Any] = {
        "agent_id": AGENT,
        "client_id": CLIENT,
        "logical_agent_id": "web-1",
        "created_at": T0,
        "updated_at": T0,
        "primary_instance_id": PRIMARY,
        "last_heartbeat_at": T0,
    }
    values.update(overrides)
    return Agent(**values)


def make_instance(**overrides: Any) -> Instance:
    values: dict[str, Any] = {
        "client_id": CLIENT,
        "instance_id": PRIMARY,
        "agent_id": AGENT,
        "role": InstanceRole.PRIMARY,
        "origin": InstanceOrigin.REGISTERED,
        "instance_type": TYPE,
        "region": REGION,
        "az": f"{REGION}a",
        "mode": Mode.SPOT,
        "first_seen_at": T0,
        "role_changed_at": T0,
    }
    values.update(overrides)
    return Instance(**values)


async def seed_reporter(uow: InMemoryUnitOfWork, **instance_overrides: Any) -> tuple[Agent, Instance]:
    agent, instance = make_agent(), make_instance(**instance_overrides)
    await uow.agents.add(agent)
    await uow.instances.add(instance)
    await uow.commit_setup()
    return agent, instance


def make_report(
    prices: dict[str, str] | None = None, *, collected_at: datetime | None = T0, **overrides: Any
) -> RecordPricingReportCommand:
    """A report of the primary listing ``{az letter: price}`` (default: three valid pools)."""
    prices = prices if prices is not None else {"a": "0.0125", "b": "0.0118", "c": "0.0131"}
    items = tuple(ReportedPool(pool_id=pool(z), az=f"{REGION}{z}", price=Decimal(p)) for z, p in prices.items())
    values: dict[str, Any] = {
        "client_id": CLIENT,
        "agent_id": AGENT,
        "instance": ReportedInstance(
            instance_id=PRIMARY, instance_type=TYPE, region=REGION, az=f"{REGION}a", mode=Mode.SPOT, pool_id=pool("a")
        ),
        "on_demand_price": Decimal("0.0416"),
        "spot_pools": items,
        "collected_at": collected_at,
        "collected_at_raw": collected_at.isoformat() if collected_at is not None else None,
    }
    values.update(overrides)
    return RecordPricingReportCommand(**values)


def make_submission(
    pool_id: str = "t3.medium.us-east-1a", price: str = "0.0125", *, at: datetime = T0, **overrides: Any
) -> PricingSubmission:
    instance_type, _, az = pool_id.rpartition(".")
    values: dict[str, Any] = {
        "submission_id": new_id(),
        "pool_id": pool_id,
        "instance_type": instance_type,
        "region": az[:-1],
        "az": az,
        "spot_price": Decimal(price),
        "observed_at": at,
        "received_at": at,
        "source_type": SourceType.PRIMARY,
        "agent_id": AGENT,
        "instance_id": PRIMARY,
        "client_id": CLIENT,
        "report_id": "report-1",
        "is_valid": True,
    }
    values.update(overrides)
    return PricingSubmission(**values)


def make_bucket(pool_id: str, at: datetime, price: str, **overrides: Any) -> CleanPriceBucket:
    instance_type, _, az = pool_id.rpartition(".")
    values: dict[str, Any] = {
        "pool_id": pool_id,
        "instance_type": instance_type,
        "region": az[:-1],
        "az": az,
        "bucket_start": bucket_start(at),
        "spot_price": Decimal(price),
        "source_type": SourceType.PRIMARY,
        "confidence": Decimal("1.00"),
        "data_source": DataSource.MEASURED,
        "created_at": at,
        "updated_at": at,
    }
    values.update(overrides)
    return CleanPriceBucket(**values)


def seed_measured(uow: InMemoryUnitOfWork, pool_id: str, prices: dict[datetime, str]) -> None:
    """Measured buckets of one pool, and its catalogue entry seen at the last of them (written to the tables
    directly: committed state)."""
    for at, price in prices.items():
        uow.buckets.put(make_bucket(pool_id, at, price))
    instance_type, _, az = pool_id.rpartition(".")
    first, last = min(prices), max(prices)
    known = uow.store.pools.get(pool_id)
    if known is not None:
        first, last = min(first, known.first_seen_at), max(last, known.last_seen_at)
    uow.store.pools[pool_id] = SpotPool(pool_id, instance_type, az[:-1], az, first, last)
