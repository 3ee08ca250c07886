"""Builders of replicas and episodes."""

from __future__ import annotations

from typing import Any

from spotopt.domain.agents.agent import Agent
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.ids import EpisodeId, InstanceId, ReplicaId, new_id
from tests.factories.common import NEW_POOL, OLD, OLD_POOL, T0


def make_replica(agent: Agent, **overrides: Any) -> Replica:
    values: dict[str, Any] = {
        "replica_id": ReplicaId(new_id()),
        "client_id": agent.client_id,
        "agent_id": agent.agent_id,
        "kind": ReplicaKind.AUTOMATIC_REBALANCE,
        "status": ReplicaStatus.LAUNCHING,
        "pool_id": NEW_POOL,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1d",
        "created_by": "system",
        "created_at": T0,
    }
    values.update(overrides)
    return Replica(**values)


def make_episode(agent: Agent, instance_id: InstanceId = OLD, **overrides: Any) -> InterruptionEpisode:
    values: dict[str, Any] = {
        "episode_id": EpisodeId(new_id()),
        "client_id": agent.client_id,
        "agent_id": agent.agent_id,
        "instance_id": instance_id,
        "state": EpisodeState.AT_RISK,
        "opened_at": T0,
        "pool_id": OLD_POOL,
    }
    values.update(overrides)
    return InterruptionEpisode(**values)
