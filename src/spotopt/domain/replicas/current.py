"""The agent's ``current_replica_id`` (domain §2.2 derived values): the most promotable non-terminal replica."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from spotopt.domain.replicas.values import ReplicaStatus

_RANK = {ReplicaStatus.READY: 0, ReplicaStatus.SYNCING: 1, ReplicaStatus.LAUNCHING: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplicaBrief:
    replica_id: str
    status: ReplicaStatus
    created_at: datetime


def live_replicas(replicas: Iterable[ReplicaBrief]) -> list[ReplicaBrief]:
    return [r for r in replicas if r.status in _RANK]


def current_replica(replicas: Iterable[ReplicaBrief]) -> ReplicaBrief | None:
    """``ready`` > ``syncing`` > ``launching``, then the oldest (then the smallest id); terminal ones never."""
    live = live_replicas(replicas)
    return min(live, key=lambda r: (_RANK[r.status], r.created_at, r.replica_id), default=None)
