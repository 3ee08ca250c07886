"""What an interruption signal leads to (domain §3.5 action codes, §3.7.2) as decision tables: outcomes, never
HTTP answers (the HTTP edge maps each action to R8/R9/A10's status and body).

Also the episode's time rules (V6, V8, V10), RP-6 replacements and the §3.6 fate of a released replica. The
episode state machine itself (V1-V14) lives in ``spotopt.domain.episode_lifecycle``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from spotopt.domain.interruptions.episode import REBALANCE_EXPIRY, InterruptionEpisode
from spotopt.domain.interruptions.values import AttributedRole, EpisodeState
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.errors import RuleConflictError
from spotopt.domain.shared.ids import ReplicaId

OLD_PRIMARY_GRACE = timedelta(seconds=60)  # V8
LATE_FAILOVER_WINDOW = timedelta(minutes=15)  # V10
MAX_REPLACEMENTS = 2  # RP-6


class Action(StrEnum):
    """Domain action codes of §3.5 (A10 adds ``none`` for signals not attributed to the primary)."""

    STANDBY_READY = "standby_ready"
    STANDBY_PREPARING = "standby_preparing"
    NO_ALTERNATIVE_POOL = "no_alternative_pool"
    NONE = "none"
    REPLICA_PROMOTED = "replica_promoted"
    FAILOVER_SCHEDULED = "failover_scheduled"
    ONDEMAND_FALLBACK_QUEUED = "ondemand_fallback_queued"
    NO_ACTION_POSSIBLE = "no_action_possible"


# §3.5 rebalance table; a terminal or missing replica leaves the episode without a standby.
_REBALANCE_ACTION = {
    ReplicaStatus.READY: Action.STANDBY_READY,
    ReplicaStatus.LAUNCHING: Action.STANDBY_PREPARING,
    ReplicaStatus.SYNCING: Action.STANDBY_PREPARING,
}


def rebalance_action(
    replica_status: ReplicaStatus | None, has_pool: bool, *, attributed_role: AttributedRole = AttributedRole.PRIMARY
) -> Action:
    """§3.5 / A10: the action for a rebalance recommendation, also while the episode is ``terminating`` (V5).

    ``replica_status`` is the status of the episode's replica after §3.7.1 (None when there is none);
    ``has_pool`` tells whether emergency selection found a pool (a replica is being created).
    """
    if attributed_role is not AttributedRole.PRIMARY:
        return Action.NONE
    action = _REBALANCE_ACTION.get(replica_status) if replica_status is not None else None
    if action is not None:
        return action
    return Action.STANDBY_PREPARING if replica_status is None and has_pool else Action.NO_ALTERNATIVE_POOL


class TerminationStep(StrEnum):
    """What the notice transaction does (§3.7.2 steps 3-6)."""

    REPLAY = "replay"  # a promotion already committed for this episode (EP-4)
    PROMOTE = "promote"  # step 3, RP-4a
    QUEUE_FALLBACK = "queue_fallback"  # step 4
    KEEP_FALLBACK = "keep_fallback"  # step 4 again: the episode's fallback command is already queued
    NO_ACTION = "no_action"  # step 4, agent disabled
    PROMOTE_DEGRADED = "promote_degraded"  # step 5, RP-4b
    SCHEDULE = "schedule"  # step 6: the coordinator will promote


@dataclass(frozen=True, slots=True)
class TerminationFacts:
    """What the notice transaction knows after steps 1-2 (episode opened or escalated, replica ensured)."""

    already_failed_over: bool = False
    ready_promotable: bool = False  # a replica satisfies RP-4a
    degraded_promotable: bool = False  # a syncing replica satisfies RP-4b (deadline - now < 30 s)
    has_replica: bool = False  # the episode has, or was given, a non-terminal replica
    replica_created: bool = False  # ... created in this call
    fallback_queued: bool = False  # the episode already has its fallback command
    agent_enabled: bool = True

    def __post_init__(self) -> None:
        if (self.ready_promotable or self.degraded_promotable or self.replica_created) and not self.has_replica:
            raise ValueError("a promotable or created replica is a replica")
        if self.replica_created and (self.ready_promotable or self.degraded_promotable):
            raise ValueError("a replica created in this call is a launch request, never promotable")
        if self.replica_created and self.already_failed_over:
            raise ValueError("a replayed notice (EP-4) creates no replica")


@dataclass(frozen=True, slots=True)
class TerminationOutcome:
    step: TerminationStep
    action: Action
    success: bool  # EP-4: true only when a promotion committed for the episode

    @property
    def promotes_now(self) -> bool:
        return self.step in (TerminationStep.PROMOTE, TerminationStep.PROMOTE_DEGRADED)


_STEP_ACTION = {
    TerminationStep.REPLAY: Action.REPLICA_PROMOTED,
    TerminationStep.PROMOTE: Action.REPLICA_PROMOTED,
    TerminationStep.PROMOTE_DEGRADED: Action.REPLICA_PROMOTED,
    TerminationStep.QUEUE_FALLBACK: Action.ONDEMAND_FALLBACK_QUEUED,
    TerminationStep.KEEP_FALLBACK: Action.ONDEMAND_FALLBACK_QUEUED,
    TerminationStep.NO_ACTION: Action.NO_ACTION_POSSIBLE,
    TerminationStep.SCHEDULE: Action.FAILOVER_SCHEDULED,
}


def _termination_step(facts: TerminationFacts) -> TerminationStep:
    """§3.7.2 steps 3-6, in order."""
    if facts.already_failed_over:
        return TerminationStep.REPLAY
    if facts.ready_promotable:
        return TerminationStep.PROMOTE
    if not facts.has_replica:
        if facts.fallback_queued:
            return TerminationStep.KEEP_FALLBACK
        return TerminationStep.QUEUE_FALLBACK if facts.agent_enabled else TerminationStep.NO_ACTION
    if facts.degraded_promotable:
        return TerminationStep.PROMOTE_DEGRADED
    return TerminationStep.SCHEDULE


def termination_outcome(facts: TerminationFacts) -> TerminationOutcome:
    """§3.7.2 steps 3-6: the step taken, its action code and EP-4's success (a committed promotion)."""
    step = _termination_step(facts)
    action = _STEP_ACTION[step]
    return TerminationOutcome(step, action, action is Action.REPLICA_PROMOTED)


class CoordinatorStep(StrEnum):
    """§3.7.2 coordinator rows for a ``terminating`` episode (V8/V10 are time rules of the episode)."""

    PROMOTE = "promote"
    PROMOTE_DEGRADED = "promote_degraded"
    CREATE_REPLACEMENT = "create_replacement"
    QUEUE_FALLBACK = "queue_fallback"
    WAIT = "wait"


def coordinator_step(
    *,
    ready_promotable: bool,
    degraded_promotable: bool,
    has_replica: bool,
    replacement_allowed: bool,
    pool_available: bool,
    fallback_queued: bool,
    agent_enabled: bool,
) -> CoordinatorStep:
    """§3.7.2 (coordinator table): promote, replace a failed replica (RP-6), or fall back to on-demand."""
    if ready_promotable:
        return CoordinatorStep.PROMOTE
    if degraded_promotable:
        return CoordinatorStep.PROMOTE_DEGRADED
    if has_replica:
        return CoordinatorStep.WAIT
    if replacement_allowed and pool_available and not fallback_queued:
        return CoordinatorStep.CREATE_REPLACEMENT
    if not fallback_queued and agent_enabled:
        return CoordinatorStep.QUEUE_FALLBACK
    return CoordinatorStep.WAIT


def rebalance_expired(episode: InterruptionEpisode, now: datetime) -> bool:
    """V6: an ``at_risk`` episode clears 2 h after its last rebalance recommendation."""
    last = episode.last_rebalance_at or episode.opened_at
    return episode.state is EpisodeState.AT_RISK and now - last >= REBALANCE_EXPIRY


def deadline_passed(episode: InterruptionEpisode, now: datetime) -> bool:
    """V8: 60 s after the deadline the old primary is declared terminated."""
    deadline = episode.deadline
    return episode.state is EpisodeState.TERMINATING and deadline is not None and now >= deadline + OLD_PRIMARY_GRACE


def episode_lost(episode: InterruptionEpisode, now: datetime) -> bool:
    """V10: 15 min after the deadline without a failover the episode is lost."""
    deadline = episode.deadline
    return episode.state is EpisodeState.TERMINATING and deadline is not None and now >= deadline + LATE_FAILOVER_WINDOW


def replacement_allowed(episode: InterruptionEpisode) -> bool:
    """RP-6: at most 2 replacements of a failed episode replica."""
    return episode.replacements < MAX_REPLACEMENTS


def elapsed_ms(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() * 1000)


def secure_replica(episode: InterruptionEpisode, replica_id: ReplicaId, now: datetime, *, replacement: bool) -> None:
    """RP-6: record the episode's replica; ``response_ms`` is the time to the first replica secured."""
    if replacement:
        if not replacement_allowed(episode):
            raise RuleConflictError("No replacement left for this episode (RP-6)", code="replacement_limit_reached")
        episode.replacements += 1
    episode.replica_id = replica_id
    if episode.response_ms is None:
        episode.response_ms = elapsed_ms(episode.opened_at, now)


class ReplicaFate(StrEnum):
    RETIRE = "retire"
    KEEP = "keep"  # detached from the episode, stays the manual standby
    BECOME_STANDBY = "become_standby"  # kind set to ``manual``, detached


def released_replica_fate(kind: ReplicaKind, *, manual_mode: bool, other_standby: bool) -> ReplicaFate:
    """§3.6: what happens to the episode's replica when the episode closes."""
    if not manual_mode:
        return ReplicaFate.RETIRE
    if kind is ReplicaKind.MANUAL:
        return ReplicaFate.KEEP
    return ReplicaFate.RETIRE if other_standby else ReplicaFate.BECOME_STANDBY
