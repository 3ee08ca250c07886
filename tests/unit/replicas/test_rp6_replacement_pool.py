"""RP-6: an episode's replacement replica goes to another pool than the replicas that already failed, unless no
other pool can host it (§3.7.1 emergency selection with the episode's failed pools).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.domain.replicas.pool_selection import PoolCandidate, select_emergency_pool
from spotopt.domain.replicas.values import ReplicaStatus
from tests.factories.replica_world import ReplicaWorld

TYPE, REGION = "t3.medium", "us-east-1"
PRIMARY = f"{TYPE}.us-east-1a"


def pool(az: str, risk: str = "0.10") -> PoolCandidate:
    return PoolCandidate(f"{TYPE}.{az}", az, True, Decimal("0.0112"), Decimal(risk), False)


def choose(pools: list[PoolCandidate], failed: tuple[str, ...]) -> str | None:
    chosen = select_emergency_pool(
        pools,
        primary_pool_id=PRIMARY,
        instance_type=TYPE,
        region=REGION,
        risk_threshold=Decimal("0.30"),
        failed_pool_ids=failed,
    )
    return chosen.az if chosen else None


def test_rp6_the_replacement_skips_the_pool_whose_replica_just_failed() -> None:
    pools = [pool("us-east-1b", "0.05"), pool("us-east-1c", "0.20")]
    assert choose(pools, ()) == "us-east-1b"
    assert choose(pools, (f"{TYPE}.us-east-1b",)) == "us-east-1c"


def test_rp6_a_failed_pool_is_preferred_to_a_riskier_tier_only_when_nothing_else_hosts() -> None:
    pools = [pool("us-east-1b", "0.05"), pool("us-east-1c", "0.90")]
    assert choose(pools, (f"{TYPE}.us-east-1b",)) == "us-east-1c"  # T2 elsewhere beats T1 where it just failed
    assert choose([pool("us-east-1b")], (f"{TYPE}.us-east-1b",)) == "us-east-1b"  # the only pool: try it again


@settings(max_examples=200, deadline=None)
@given(
    risks=st.lists(st.sampled_from(["0", "0.1", "0.5", "1"]), min_size=1, max_size=5),
    failed=st.sets(st.integers(0, 4)),
)
def test_rp6_property_a_failed_pool_is_chosen_only_when_every_host_failed(risks: list[str], failed: set[int]) -> None:
    pools = [pool(f"us-east-1{'bcdef'[i]}", r) for i, r in enumerate(risks)]
    failed_ids = tuple(pools[i].pool_id for i in failed if i < len(pools))
    chosen = choose(pools, failed_ids)
    assert chosen is not None
    if f"{TYPE}.{chosen}" in failed_ids:
        assert all(p.pool_id in failed_ids for p in pools)


async def test_rp6_the_coordinator_replaces_a_failed_replica_in_another_pool() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.imminent(agent, termination_time=world.clock.now() + timedelta(minutes=5))
    assert outcome.episode is not None
    first = world.replicas(agent, live=True)[0]
    await world.report(agent, first, ReplicaStatus.FAILED)
    await world.coordinate(agent)
    (replacement,) = world.replicas(agent, live=True)
    assert outcome.episode.replacements == 1
    assert replacement.pool_id != first.pool_id
