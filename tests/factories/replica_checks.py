"""The replica invariants checked after every step of the replica state machine (issue 3 "Done when"): plain
functions over a ``ReplicaWorld`` and its agent, each naming the rule it proves.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from spotopt.application.agents.get_agent_config import GetAgentConfig, GetAgentConfigQuery
from spotopt.application.interruptions.signal_intake import SignalOutcome
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.interruptions.emergency import MAX_REPLACEMENTS, Action
from spotopt.domain.interruptions.values import OPEN_EPISODE, EpisodeState
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaKind, ReplicaStatus
from spotopt.domain.shared.ids import is_instance_id
from spotopt.entrypoints.http.interruptions.schemas import failover_body
from tests.factories.replica_world import ReplicaWorld
from tests.factories.world import assert_ledger_consistent
from tests.fakes.uow import InScope

EMERGENCY_KINDS = frozenset({ReplicaKind.AUTOMATIC_REBALANCE, ReplicaKind.AUTOMATIC_TERMINATION})


def check_one_primary(world: ReplicaWorld, agent: Agent) -> None:
    """AG-3/IN-2/AG-4: at most one primary, the agent points at it and carries its placement; none only after the
    primary was terminated without a successor (A8)."""
    instances = [i for i in world.uow.store.instances.values() if i.agent_id == agent.agent_id]
    primaries = [i for i in instances if i.role is InstanceRole.PRIMARY]
    assert len(primaries) <= 1, [i.instance_id for i in primaries]
    assert agent.primary_instance_id == (primaries[0].instance_id if primaries else None)
    if not primaries:
        assert any(i.is_terminated and i.primary_since is not None for i in instances)
        return
    primary = primaries[0]
    assert (agent.instance_type, agent.region, agent.az, agent.mode, agent.pool_id) == (
        primary.instance_type,
        primary.region,
        primary.az,
        primary.mode,
        primary.pool_id,
    )


def check_promoted_had_real_instance(world: ReplicaWorld, agent: Agent) -> None:
    """RP-3/IN-5: a promoted replica carries a real EC2 id, of an instance of the agent that became primary."""
    for replica in world.replicas(agent):
        if replica.status is ReplicaStatus.PROMOTED:
            assert replica.instance_id is not None
            assert is_instance_id(replica.instance_id)
            instance = world.instance(agent, replica.instance_id)
            assert instance.primary_since is not None


def check_pools(world: ReplicaWorld, agent: Agent) -> None:
    """RP-1: no live replica shares the primary's pool."""
    if agent.primary_instance_id is None:
        return
    primary = world.instance(agent, agent.primary_instance_id)
    for replica in world.replicas(agent, live=True):
        assert replica.pool_id != primary.pool_id, (replica.replica_id, replica.pool_id)


def check_episodes(world: ReplicaWorld, agent: Agent) -> None:
    """RP-6 (one live replica per episode, at most 2 replacements), EP-1 (one open episode per instance), V9 (a
    failed-over episode names its promoted replica and that replica's instance; one promotion per episode)."""
    live = world.replicas(agent, live=True)
    per_episode = Counter(r.episode_id for r in live if r.episode_id is not None)
    assert all(n == 1 for n in per_episode.values()), per_episode
    emergency = Counter(r.episode_id for r in live if r.kind in EMERGENCY_KINDS and r.episode_id is not None)
    assert all(n == 1 for n in emergency.values())
    episodes = world.episodes(agent)
    opened = Counter(e.instance_id for e in episodes if e.state in OPEN_EPISODE)
    assert all(n == 1 for n in opened.values()), opened
    promoted = Counter(r.episode_id for r in world.replicas(agent) if r.status is ReplicaStatus.PROMOTED)
    for episode in episodes:
        assert episode.replacements <= MAX_REPLACEMENTS
        assert promoted[episode.episode_id] <= 1
        if episode.state is EpisodeState.FAILED_OVER:
            assert episode.promoted_replica_id is not None
            replica = world.uow.store.replicas[episode.promoted_replica_id]
            assert replica.status is ReplicaStatus.PROMOTED
            assert episode.new_instance_id == replica.instance_id


def check_standbys(world: ReplicaWorld, agent: Agent) -> None:
    """IN-3: an instance is a standby exactly when a non-terminal replica of the agent has its id."""
    live_ids = {r.instance_id for r in world.replicas(agent, live=True) if r.instance_id is not None}
    standbys = {
        i.instance_id
        for i in world.uow.store.instances.values()
        if i.agent_id == agent.agent_id and i.role is InstanceRole.STANDBY
    }
    assert live_ids == standbys, (live_ids, standbys)


async def check_counters(world: ReplicaWorld, agent: Agent) -> None:
    """A.1/A11 (§2.2 derived): ``replica_count`` = non-terminal replicas; ``current_replica_id`` is one of them."""
    view = await InScope(GetAgentConfig(world.uow).execute, world.uow).execute(
        GetAgentConfigQuery(client_id=agent.client_id, agent_id=agent.agent_id)
    )
    live = {r.replica_id for r in world.replicas(agent) if r.status in NON_TERMINAL_REPLICA}
    assert view.replica_count == len(live)
    assert (view.current_replica_id in live) if live else view.current_replica_id is None


def check_ledger(world: ReplicaWorld) -> None:
    """IN-8: one open ledger entry per non-terminated instance, in its role; none for a terminated one."""
    assert_ledger_consistent(world)


def committed_failover(world: ReplicaWorld, outcome: SignalOutcome) -> dict[str, Any]:
    """EP-4: an answer claiming a promotion names an episode whose promotion committed; returns the R9 body."""
    episode = outcome.episode
    assert outcome.action is Action.REPLICA_PROMOTED
    assert episode is not None
    assert episode.state is EpisodeState.FAILED_OVER
    assert episode.promoted_replica_id is not None
    replica = world.uow.store.replicas[episode.promoted_replica_id]
    assert replica.status is ReplicaStatus.PROMOTED
    assert outcome.replica is replica
    body = failover_body(outcome)
    assert body["new_instance_id"] == replica.instance_id == episode.new_instance_id
    return body
