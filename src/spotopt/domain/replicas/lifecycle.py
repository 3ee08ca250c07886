"""Replica lifecycle (domain §2.4, §3.3): the transitions of a replica (attach, ready, claim, fail, retire, promote)
and the ``Transition`` they return; agent status reports pick one through the table in ``status_reports``.

Every function mutates the replica only when it returns an ``applied`` transition; ``noop`` and ``conflict``
leave it untouched. The returned flags name the effects outside the replica that the use case must apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from spotopt.domain.agents.values import KeptReason
from spotopt.domain.replicas.guards import LAUNCH_LEASE, PromotionKind, is_claimable, is_launch_request
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaStatus, SyncStatus
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError
from spotopt.domain.shared.ids import InstanceId, is_instance_id

INTERRUPTED = "interrupted"
REPORTED_FAILED = "reported_failed"

INVALID_TRANSITION = "invalid_transition"
REPLICA_TERMINAL = "replica_terminal"
INSTANCE_ID_CONFLICT = "instance_id_conflict"
REPLICA_NOT_PROMOTABLE = "replica_not_promotable"
REPLICA_IN_EPISODE = "replica_in_episode"

EVENT_READY = "replica_ready"
EVENT_FAILED = "replica_failed"
EVENT_LAUNCH_MAY_BE_RUNNING = "replica_launch_may_be_running"

ABSORBING = frozenset({ReplicaStatus.PROMOTED, ReplicaStatus.TERMINATED, ReplicaStatus.FAILED})
# The rule cited when a terminal replica refuses a change.
REFUSING_RULE = {ReplicaStatus.PROMOTED: "L15", ReplicaStatus.FAILED: "L15", ReplicaStatus.TERMINATED: "L13"}


class Outcome(StrEnum):
    APPLIED = "applied"
    NOOP = "noop"
    CONFLICT = "conflict"


class RetireReason(StrEnum):
    EPISODE_CLOSED = "episode_closed"
    MODE_CHANGED = "mode_changed"
    EXTRA = "extra"
    POOL_CONFLICT = "pool_conflict"
    CLIENT_REQUEST = "client_request"
    AGENT_DELETED = "agent_deleted"
    SIBLING_PROMOTED = "sibling_promoted"


# RP-7: only mode changes and manual-mode upkeep must spare an episode's replica.
_SPARED_BY_OPEN_EPISODE = frozenset({RetireReason.MODE_CHANGED, RetireReason.EXTRA})


@dataclass(frozen=True, slots=True)
class TransitionConflict:
    """Why a report was refused (→ 409 with ``detail.from``, ``detail.to``, ``detail.reason``)."""

    code: str
    from_status: str
    to: str
    reason: str

    def error(self) -> RuleConflictError:
        detail = {"from": self.from_status, "to": self.to, "reason": self.reason}
        return RuleConflictError(f"Replica cannot go from {self.from_status} to {self.to}", code=self.code, **detail)


@dataclass(frozen=True, slots=True)
class Transition:
    """Result of one replica event: what happened (rule id) and what the use case must do outside the replica."""

    outcome: Outcome
    rule: str
    previous_status: ReplicaStatus
    status: ReplicaStatus
    instance_to_standby: bool = False  # I2
    instance_kept_reason: KeptReason | None = None  # I9 (termination_requested) / I10 (awaiting_termination)
    instance_terminated: bool = False  # L12/L13 → I11, confirmed
    attempt_promotion: bool = False  # L7: promote now if an episode of the agent is terminating
    events: tuple[str, ...] = ()
    conflict: TransitionConflict | None = None

    @property
    def applied(self) -> bool:
        return self.outcome is Outcome.APPLIED

    def raise_for_conflict(self) -> None:
        if self.conflict is not None:
            raise self.conflict.error()


def noop(replica: Replica, rule: str) -> Transition:
    return Transition(Outcome.NOOP, rule, replica.status, replica.status)


def refused(replica: Replica, rule: str, to: str, reason: str, code: str = INVALID_TRANSITION) -> Transition:
    """A conflict transition; the replica is left untouched."""
    conflict = TransitionConflict(code, str(replica.status), to, reason)
    return Transition(Outcome.CONFLICT, rule, replica.status, replica.status, conflict=conflict)


def stamp(replica: Replica, name: str, now: datetime) -> None:
    """RP-2: every lifecycle timestamp is written once."""
    if getattr(replica, name) is None:
        setattr(replica, name, now)


def _mark_ready(replica: Replica, now: datetime) -> None:
    replica.status = ReplicaStatus.READY
    replica.sync_status = SyncStatus.SYNCED
    replica.state_transfer_progress = Decimal(100)
    stamp(replica, "ready_at", now)


def attach(replica: Replica, instance_id: InstanceId, to: ReplicaStatus, now: datetime) -> Transition:
    """L4 (→ syncing) and L5 (→ ready, L4 + L7)."""
    previous = replica.status
    replica.instance_id = instance_id
    replica.status = ReplicaStatus.SYNCING
    replica.sync_status = SyncStatus.SYNCING
    stamp(replica, "launched_at", now)
    stamp(replica, "sync_started_at", now)
    if to is ReplicaStatus.READY:
        _mark_ready(replica, now)
        return Transition(
            Outcome.APPLIED,
            "L5",
            previous,
            replica.status,
            instance_to_standby=True,
            attempt_promotion=True,
            events=(EVENT_READY,),
        )
    return Transition(Outcome.APPLIED, "L4", previous, replica.status, instance_to_standby=True)


def become_ready(replica: Replica, now: datetime) -> Transition:
    """L7: ``syncing`` → ``ready``; needs an instance id."""
    if replica.instance_id is None:
        return refused(replica, "L7", ReplicaStatus.READY, "instance_id_required")
    previous = replica.status
    _mark_ready(replica, now)
    return Transition(Outcome.APPLIED, "L7", previous, replica.status, attempt_promotion=True, events=(EVENT_READY,))


def attach_instance(
    replica: Replica, instance_id: str, status: ReplicaStatus = ReplicaStatus.SYNCING, *, now: datetime
) -> Transition:
    """R5: L4/L5 attach; the same id again is L16; another id is ``instance_id_conflict`` (RP-3)."""
    if not is_instance_id(instance_id):
        raise InvalidValueError("instance_id", "must be an EC2 instance id (i- and 8 or 17 lowercase hex digits)")
    if status not in (ReplicaStatus.SYNCING, ReplicaStatus.READY):
        raise InvalidValueError("status", "must be syncing or ready")
    if replica.status in (ReplicaStatus.TERMINATED, ReplicaStatus.FAILED):
        return refused(replica, "L15", status, "replica is terminal", REPLICA_TERMINAL)
    if replica.instance_id is None:
        if replica.status is not ReplicaStatus.LAUNCHING:
            return refused(replica, "L4", status, "only a launch request takes an instance id")
        return attach(replica, InstanceId(instance_id), status, now)
    if replica.instance_id != instance_id:
        return refused(replica, "RP-3", status, "replica already has another instance id", INSTANCE_ID_CONFLICT)
    if replica.status is ReplicaStatus.SYNCING and status is ReplicaStatus.READY:
        return become_ready(replica, now)
    return noop(replica, "L15" if replica.status is ReplicaStatus.PROMOTED else "L16")


def claim_launch(replica: Replica, now: datetime) -> Transition:
    """L3/RP-10: hand the launch request to the launcher for one 180 s lease."""
    if not is_claimable(replica, now):
        return refused(replica, "L3", ReplicaStatus.LAUNCHING, "not_claimable")
    replica.launch_lease_expires_at = now + LAUNCH_LEASE
    replica.launch_claims += 1
    return Transition(Outcome.APPLIED, "L3", replica.status, replica.status)


def fail(replica: Replica, reason: str, now: datetime) -> Transition:
    """L9 (``launching``) / L10 (``syncing``, ``ready``); ``interrupted`` (EP-7) sends the instance to I10, else I9."""
    if replica.status is ReplicaStatus.FAILED:
        return noop(replica, "L15")
    if replica.status in ABSORBING:
        rule = REFUSING_RULE[replica.status]
        return refused(replica, rule, ReplicaStatus.FAILED, "replica is terminal", REPLICA_TERMINAL)
    previous = replica.status
    replica.status = ReplicaStatus.FAILED
    replica.failure_reason = reason
    stamp(replica, "failed_at", now)
    kept = None
    if replica.instance_id is not None:
        kept = KeptReason.AWAITING_TERMINATION if reason == INTERRUPTED else KeptReason.TERMINATION_REQUESTED
    rule = "L9" if previous is ReplicaStatus.LAUNCHING else "L10"
    return Transition(
        Outcome.APPLIED, rule, previous, replica.status, instance_kept_reason=kept, events=(EVENT_FAILED,)
    )


def retire(replica: Replica, reason: RetireReason, now: datetime, *, episode_open: bool = False) -> Transition:
    """L11: retire a non-terminal replica; RP-7 spares an open episode's replica from mode changes and upkeep."""
    if replica.status is ReplicaStatus.TERMINATED:
        return noop(replica, "L11")
    if replica.status in ABSORBING:
        return refused(replica, "L11", ReplicaStatus.TERMINATED, "replica is terminal", REPLICA_TERMINAL)
    if episode_open and replica.episode_id is not None and reason in _SPARED_BY_OPEN_EPISODE:
        return refused(replica, "RP-7", ReplicaStatus.TERMINATED, "attached to an open episode", REPLICA_IN_EPISODE)
    claimed = replica.launch_lease_expires_at is not None and replica.launch_lease_expires_at > now
    events = (EVENT_LAUNCH_MAY_BE_RUNNING,) if is_launch_request(replica) and claimed else ()
    previous = replica.status
    replica.status = ReplicaStatus.TERMINATED
    replica.termination_reason = str(reason)
    stamp(replica, "terminated_at", now)
    kept = KeptReason.TERMINATION_REQUESTED if replica.instance_id is not None else None
    return Transition(Outcome.APPLIED, "L11", previous, replica.status, instance_kept_reason=kept, events=events)


def promote(replica: Replica, kind: PromotionKind, now: datetime) -> Transition:
    """L14: the replica part of the promotion transaction (§3.7.3 step 1); a repeat returns the first result."""
    if replica.status is ReplicaStatus.PROMOTED:
        return noop(replica, "L14")
    expected = ReplicaStatus.READY if kind is PromotionKind.READY else ReplicaStatus.SYNCING
    if replica.status is not expected or replica.instance_id is None:
        return refused(replica, "L14", ReplicaStatus.PROMOTED, f"not promotable as {kind}", REPLICA_NOT_PROMOTABLE)
    previous = replica.status
    replica.status = ReplicaStatus.PROMOTED
    replica.degraded_promotion = kind is PromotionKind.DEGRADED
    stamp(replica, "promoted_at", now)
    return Transition(Outcome.APPLIED, "L14", previous, replica.status)
