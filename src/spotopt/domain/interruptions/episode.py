"""Interruption signals and episodes (domain §2.7, §3.5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.domain.interruptions.values import OPEN_EPISODE, AttributedRole, EpisodeState, SignalKind
from spotopt.domain.shared.ids import AgentId, ClientId, CommandId, EpisodeId, InstanceId, ReplicaId

DEFAULT_NOTICE_LEAD = timedelta(seconds=120)
NOTICE_EARLIEST = timedelta(seconds=120)
NOTICE_LATEST = timedelta(minutes=10)
REBALANCE_EXPIRY = timedelta(hours=2)


@dataclass(eq=False, slots=True)
class InterruptionSignal:
    """Append-only observation (EP-2)."""

    signal_id: str
    client_id: ClientId
    agent_id: AgentId
    kind: SignalKind
    received_at: datetime
    attributed_role: AttributedRole
    instance_id: InstanceId | None = None
    pool_id: str | None = None
    detected_at: datetime | None = None
    termination_time: datetime | None = None
    episode_id: EpisodeId | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InterruptionSignal) and other.signal_id == self.signal_id

    def __hash__(self) -> int:
        return hash(self.signal_id)


@dataclass(eq=False, slots=True)
class InterruptionEpisode:
    episode_id: EpisodeId
    client_id: ClientId
    agent_id: AgentId
    instance_id: InstanceId
    state: EpisodeState
    opened_at: datetime
    pool_id: str | None = None
    first_rebalance_at: datetime | None = None
    last_rebalance_at: datetime | None = None
    notice_at: datetime | None = None
    deadline: datetime | None = None
    deadline_estimated: bool = False
    replica_id: ReplicaId | None = None
    replacements: int = 0
    fallback_command_id: CommandId | None = None
    promoted_replica_id: ReplicaId | None = None
    new_instance_id: InstanceId | None = None
    old_primary_terminated: bool = False
    degraded: bool = False
    late: bool = False
    response_ms: int | None = None
    failover_ms: int | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InterruptionEpisode) and other.episode_id == self.episode_id

    def __hash__(self) -> int:
        return hash(self.episode_id)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_EPISODE

    def close(self, state: EpisodeState, now: datetime, reason: str) -> None:
        self.state = state
        self.closed_at = now
        self.close_reason = reason


def notice_deadline(termination_time: datetime | None, received_at: datetime) -> tuple[datetime, bool]:
    """EP-6: accept the claimed time only inside ``[received − 120 s, received + 10 min]``.

    Returns the deadline and whether it was estimated.
    """
    if termination_time is not None and (
        received_at - NOTICE_EARLIEST <= termination_time <= received_at + NOTICE_LATEST
    ):
        return termination_time, False
    return received_at + DEFAULT_NOTICE_LEAD, True
