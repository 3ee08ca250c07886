"""Random sequences of replica and signal use cases keep the replica invariants after every step (AG-3, IN-3, IN-8,
RP-1, RP-3, RP-5, RP-6, EP-1, EP-4). A lighter cousin of the stateful test the issue asks for (hypothesis lists of
operations, both replica modes, a fixed clock that only moves forward).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.domain.agents.agent import Agent
from spotopt.domain.interruptions.values import OPEN_EPISODE
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.errors import DomainError
from tests.factories.replica_world import POOL_C, ReplicaWorld
from tests.unit.replicas.test_replica_use_cases import check

Op = Callable[[ReplicaWorld, Agent, int], Awaitable[object]]


def _live(world: ReplicaWorld, agent: Agent, *statuses: ReplicaStatus):  # type: ignore[no-untyped-def]
    return [r for r in world.replicas(agent, live=True) if not statuses or r.status in statuses]


async def _attach(world: ReplicaWorld, agent: Agent, n: int) -> None:
    for replica in _live(world, agent, ReplicaStatus.LAUNCHING):
        await world.attach(agent, replica, f"i-{n:017x}")
        return


async def _ready(world: ReplicaWorld, agent: Agent, _: int) -> None:
    for replica in _live(world, agent, ReplicaStatus.SYNCING):
        await world.report(agent, replica, ReplicaStatus.READY)
        return


async def _fail(world: ReplicaWorld, agent: Agent, _: int) -> None:
    for replica in _live(world, agent):
        await world.report(agent, replica, ReplicaStatus.FAILED)
        return


async def _retire(world: ReplicaWorld, agent: Agent, _: int) -> None:
    for replica in _live(world, agent):
        await world.retire(agent, replica)
        return


async def _promote(world: ReplicaWorld, agent: Agent, _: int) -> None:
    for replica in _live(world, agent, ReplicaStatus.READY):
        await world.promote(agent, replica)
        return


async def _tick(world: ReplicaWorld, agent: Agent, n: int) -> None:
    world.advance(seconds=10 + n % 290)
    agent.last_heartbeat_at = world.clock.now()
    await world.coordinate(agent)


async def _long(world: ReplicaWorld, agent: Agent, _: int) -> None:
    world.advance(minutes=21)
    await world.coordinate(agent)


OPS: dict[str, Op] = {
    "rebalance": lambda w, a, _: w.emergency(a, instance_id=a.primary_instance_id),
    "notice": lambda w, a, _: w.notice(a, instance_id=a.primary_instance_id),
    "imminent": lambda w, a, _: w.imminent(a, instance_id=a.primary_instance_id),
    "a10": lambda w, a, _: w.rebalance(a, instance_id=a.primary_instance_id),
    "register": lambda w, a, n: w.register_replica(a, f"i-{n:017x}", POOL_C),
    "request": lambda w, a, _: w.create(a),
    "claim": lambda w, a, _: w.list_replicas(a, statuses=frozenset({ReplicaStatus.LAUNCHING})),
    "attach": _attach,
    "ready": _ready,
    "fail": _fail,
    "retire": _retire,
    "promote": _promote,
    "tick": _tick,
    "long": _long,
}


@settings(max_examples=60, deadline=None)
@given(manual=st.booleans(), ops=st.lists(st.sampled_from(sorted(OPS)), min_size=1, max_size=30))
async def test_random_replica_histories_keep_every_invariant(manual: bool, ops: list[str]) -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=manual)
    for n, name in enumerate(ops, start=1):
        with contextlib.suppress(DomainError):  # a refusal (404/409/422/403) is an answer, never a broken state
            await OPS[name](world, agent, n)
        check(world, agent)
        opened = Counter((e.agent_id, e.instance_id) for e in world.episodes(agent) if e.state in OPEN_EPISODE)
        assert all(count == 1 for count in opened.values())  # EP-1
        promoted = [r for r in world.replicas(agent) if r.status is ReplicaStatus.PROMOTED]
        failovers = [e for e in world.episodes(agent) if e.promoted_replica_id is not None]
        assert len({e.promoted_replica_id for e in failovers}) == len(failovers) <= len(promoted)  # EP-4
        if not manual and name == "tick":  # RP-5: auto-switch replicas live only while an episode is open
            assert not world.replicas(agent, live=True) or any(e.state in OPEN_EPISODE for e in world.episodes(agent))
