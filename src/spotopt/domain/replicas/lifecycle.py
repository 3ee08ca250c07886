"""Replica lifecycle (domain §2.4, §3.3): table-driven transitions for agent reports, claims, retirement.

Every function mutates the replica only when it returns an ``applied`` transition; ``noop`` and ``conflict``
leave it untouched. The returned flags name the effects outside the replica that the use case must apply.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _noop(replica: Replica, rule: str) -> Transition:
    return Transition(Outcome.NOOP, rule, replica.status, replica.status)


def refused(replica: Replica, rule: str, to: str, reason: str, code: str = INVALID_TRANSITION) -> Transition:
    """A conflict transition; the replica is left untouched."""
    conflict = TransitionConflict(code, str(replica.status), to, reason)
    return Transition(Outcome.CONFLICT, rule, replica.status, replica.status, conflict=conflict)


def _stamp(replica: Replica, name: str, now: datetime) -> None:
    """RP-2: every lifecycle timestamp is written once."""
    if getattr(replica, name) is None:
        setattr(replica, name, now)


def _mark_ready(replica: Replica, now: datetime) -> None:
    replica.status = ReplicaStatus.READY
    replica.sync_status = SyncStatus.SYNCED
    replica.state_transfer_progress = Decimal(100)
    _stamp(replica, "ready_at", now)


def _attach(replica: Replica, instance_id: InstanceId, to: ReplicaStatus, now: datetime) -> Transition:
    """L4 (→ syncing) and L5 (→ ready, L4 + L7)."""
    previous = replica.status
    replica.instance_id = instance_id
    replica.status = ReplicaStatus.SYNCING
    replica.sync_status = SyncStatus.SYNCING
    _stamp(replica, "launched_at", now)
    _stamp(replica, "sync_started_at", now)
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


@dataclass(frozen=True, slots=True)
class _Report:
    replica: Replica
    reported: ReplicaStatus
    instance_id: InstanceId | None
    error_message: str | None
    now: datetime


def _report_attach(r: _Report) -> Transition:
    if r.instance_id is None:
        return refused(r.replica, "L4", r.reported, "instance_id_required")
    return _attach(r.replica, r.instance_id, r.reported, r.now)


def _report_failed(r: _Report) -> Transition:
    return fail(r.replica, r.error_message or REPORTED_FAILED, r.now)


def _report_terminated(r: _Report) -> Transition:
    """L12: the agent says the replica's instance is gone (confirmed)."""
    replica, previous = r.replica, r.replica.status
    replica.status = ReplicaStatus.TERMINATED
    replica.termination_reason = replica.termination_reason or "reported"
    _stamp(replica, "terminated_at", r.now)
    _stamp(replica, "termination_confirmed_at", r.now)
    return Transition(
        Outcome.APPLIED, "L12", previous, replica.status, instance_terminated=replica.instance_id is not None
    )


def _report_confirm(r: _Report) -> Transition:
    """L13: confirmation of an already terminated replica (once)."""
    if r.replica.termination_confirmed_at is not None:
        return _noop(r.replica, "L13")
    r.replica.termination_confirmed_at = r.now
    status = r.replica.status
    return Transition(Outcome.APPLIED, "L13", status, status, instance_terminated=r.replica.instance_id is not None)


def _report_syncing_again(r: _Report) -> Transition:
    """L16, except that an ``initializing`` sub-state still starts syncing (sync sub-state table)."""
    if r.replica.sync_status is SyncStatus.INITIALIZING:
        r.replica.sync_status = SyncStatus.SYNCING
        return Transition(Outcome.APPLIED, "L6", r.replica.status, r.replica.status)
    return _noop(r.replica, "L16")


def _already(rule: str) -> Callable[[_Report], Transition]:
    return lambda r: _noop(r.replica, rule)


_S = ReplicaStatus
_STATUS_TABLE: dict[tuple[ReplicaStatus, ReplicaStatus], Callable[[_Report], Transition]] = {
    (_S.LAUNCHING, _S.LAUNCHING): _already("L16"),
    (_S.LAUNCHING, _S.SYNCING): _report_attach,
    (_S.LAUNCHING, _S.READY): _report_attach,
    (_S.LAUNCHING, _S.FAILED): _report_failed,
    (_S.LAUNCHING, _S.TERMINATED): _report_terminated,
    (_S.SYNCING, _S.LAUNCHING): _already("L16"),
    (_S.SYNCING, _S.SYNCING): _report_syncing_again,
    (_S.SYNCING, _S.READY): lambda r: become_ready(r.replica, r.now),
    (_S.SYNCING, _S.FAILED): _report_failed,
    (_S.SYNCING, _S.TERMINATED): _report_terminated,
    (_S.READY, _S.LAUNCHING): _already("L16"),
    (_S.READY, _S.SYNCING): _already("L16"),
    (_S.READY, _S.READY): _already("L16"),
    (_S.READY, _S.FAILED): _report_failed,
    (_S.READY, _S.TERMINATED): _report_terminated,
    (_S.TERMINATED, _S.TERMINATED): _report_confirm,
    (_S.PROMOTED, _S.PROMOTED): _already("L15"),
    (_S.FAILED, _S.FAILED): _already("L15"),
}

# Rule cited when a (from, reported) pair is missing from the table.
_REFUSING_RULE = {_S.PROMOTED: "L15", _S.FAILED: "L15", _S.TERMINATED: "L13"}


def apply_status_report(
    replica: Replica,
    reported_status: ReplicaStatus,
    *,
    instance_id: InstanceId | None = None,
    error_message: str | None = None,
    now: datetime,
) -> Transition:
    """§3.3 L4/L5/L7/L9/L10/L12/L13/L15/L16: an agent's status report (R6); pairs not in the table conflict."""
    if instance_id is not None and replica.instance_id not in (None, instance_id) and replica.status not in ABSORBING:
        return refused(replica, "RP-3", reported_status, "instance_id_differs", INSTANCE_ID_CONFLICT)
    handler = _STATUS_TABLE.get((replica.status, reported_status))
    if handler is None:
        rule = _REFUSING_RULE.get(replica.status, "L14")
        return refused(replica, rule, reported_status, f"{replica.status} does not accept {reported_status}")
    return handler(_Report(replica, reported_status, instance_id or replica.instance_id, error_message, now))


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
        return _attach(replica, InstanceId(instance_id), status, now)
    if replica.instance_id != instance_id:
        return refused(replica, "RP-3", status, "replica already has another instance id", INSTANCE_ID_CONFLICT)
    if replica.status is ReplicaStatus.SYNCING and status is ReplicaStatus.READY:
        return become_ready(replica, now)
    return _noop(replica, "L15" if replica.status is ReplicaStatus.PROMOTED else "L16")


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
        return _noop(replica, "L15")
    if replica.status in ABSORBING:
        rule = _REFUSING_RULE[replica.status]
        return refused(replica, rule, ReplicaStatus.FAILED, "replica is terminal", REPLICA_TERMINAL)
    previous = replica.status
    replica.status = ReplicaStatus.FAILED
    replica.failure_reason = reason
    _stamp(replica, "failed_at", now)
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
        return _noop(replica, "L11")
    if replica.status in ABSORBING:
        return refused(replica, "L11", ReplicaStatus.TERMINATED, "replica is terminal", REPLICA_TERMINAL)
    if episode_open and replica.episode_id is not None and reason in _SPARED_BY_OPEN_EPISODE:
        return refused(replica, "RP-7", ReplicaStatus.TERMINATED, "attached to an open episode", REPLICA_IN_EPISODE)
    claimed = replica.launch_lease_expires_at is not None and replica.launch_lease_expires_at > now
    events = (EVENT_LAUNCH_MAY_BE_RUNNING,) if is_launch_request(replica) and claimed else ()
    previous = replica.status
    replica.status = ReplicaStatus.TERMINATED
    replica.termination_reason = str(reason)
    _stamp(replica, "terminated_at", now)
    kept = KeptReason.TERMINATION_REQUESTED if replica.instance_id is not None else None
    return Transition(Outcome.APPLIED, "L11", previous, replica.status, instance_kept_reason=kept, events=events)


def promote(replica: Replica, kind: PromotionKind, now: datetime) -> Transition:
    """L14: the replica part of the promotion transaction (§3.7.3 step 1); a repeat returns the first result."""
    if replica.status is ReplicaStatus.PROMOTED:
        return _noop(replica, "L14")
    expected = ReplicaStatus.READY if kind is PromotionKind.READY else ReplicaStatus.SYNCING
    if replica.status is not expected or replica.instance_id is None:
        return refused(replica, "L14", ReplicaStatus.PROMOTED, f"not promotable as {kind}", REPLICA_NOT_PROMOTABLE)
    previous = replica.status
    replica.status = ReplicaStatus.PROMOTED
    replica.degraded_promotion = kind is PromotionKind.DEGRADED
    _stamp(replica, "promoted_at", now)
    return Transition(Outcome.APPLIED, "L14", previous, replica.status)
