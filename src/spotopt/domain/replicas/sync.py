"""Replica sync reports (domain §3.3 L6-L8 and the sync sub-state table; api R7)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from spotopt.domain.replicas.lifecycle import ABSORBING, REPLICA_TERMINAL, Outcome, Transition, become_ready, refused
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaStatus, SyncStatus
from spotopt.domain.shared.errors import InvalidValueError

# Sync sub-state table: (current, reported) → (next, pass reset). Missing pairs conflict;
# a report behind the current sub-state is ignored (a replica never goes back, L16).
_SY = SyncStatus
_SYNC_TABLE: dict[tuple[SyncStatus, SyncStatus], tuple[SyncStatus, bool]] = {
    (_SY.INITIALIZING, _SY.INITIALIZING): (_SY.INITIALIZING, False),
    (_SY.INITIALIZING, _SY.SYNCING): (_SY.SYNCING, False),
    (_SY.INITIALIZING, _SY.SYNCED): (_SY.SYNCED, False),
    (_SY.SYNCING, _SY.INITIALIZING): (_SY.SYNCING, False),
    (_SY.SYNCING, _SY.SYNCING): (_SY.SYNCING, False),
    (_SY.SYNCING, _SY.SYNCED): (_SY.SYNCED, False),
    (_SY.SYNCED, _SY.INITIALIZING): (_SY.SYNCED, False),
    (_SY.SYNCED, _SY.SYNCING): (_SY.SYNCED, False),
    (_SY.SYNCED, _SY.SYNCED): (_SY.SYNCED, False),
    (_SY.SYNCED, _SY.OUT_OF_SYNC): (_SY.OUT_OF_SYNC, False),
    (_SY.OUT_OF_SYNC, _SY.INITIALIZING): (_SY.OUT_OF_SYNC, False),
    (_SY.OUT_OF_SYNC, _SY.SYNCING): (_SY.SYNCING, True),
    (_SY.OUT_OF_SYNC, _SY.SYNCED): (_SY.SYNCED, False),
    (_SY.OUT_OF_SYNC, _SY.OUT_OF_SYNC): (_SY.OUT_OF_SYNC, False),
}


def _check_sync_report(progress: Decimal | None, latency_ms: int | None, status: ReplicaStatus | None) -> None:
    if progress is not None and not Decimal(0) <= progress <= Decimal(100):
        raise InvalidValueError("state_transfer_progress", "must be between 0 and 100")
    if latency_ms is not None and not 0 <= latency_ms <= 86_400_000:
        raise InvalidValueError("sync_latency_ms", "must be between 0 and 86400000")
    if status not in (None, ReplicaStatus.SYNCING, ReplicaStatus.READY):
        raise InvalidValueError("status", "must be syncing or ready")


def _next_sync(
    current: SyncStatus, reported: SyncStatus | None, before: Decimal, progress: Decimal | None
) -> tuple[SyncStatus, Decimal] | None:
    """Sub-state and progress after a report, or None when the table refuses the sub-state change."""
    step = _SYNC_TABLE.get((current, reported)) if reported else (current, False)
    if step is None:
        return None
    next_sync, reset = step
    base = Decimal(0) if reset else before
    new_progress = max(base, progress) if progress is not None else base
    # Only a progress reported now can complete a pass; an explicit out-of-sync wins over it.
    completed = progress is not None and progress >= 100 and reported is not SyncStatus.OUT_OF_SYNC
    if completed or next_sync is SyncStatus.SYNCED:
        return SyncStatus.SYNCED, Decimal(100)
    return next_sync, new_progress


def apply_sync_report(
    replica: Replica,
    *,
    sync_status: SyncStatus | None = None,
    progress: Decimal | None = None,
    latency_ms: int | None = None,
    status: ReplicaStatus | None = None,
    now: datetime,
) -> Transition:
    """L6-L8 and the sync sub-state table (R7); progress is non-decreasing within one sync pass."""
    _check_sync_report(progress, latency_ms, status)
    reported = sync_status
    if reported is None and status is ReplicaStatus.SYNCING and replica.sync_status is SyncStatus.INITIALIZING:
        reported = SyncStatus.SYNCING
    to = str(status or reported or replica.status)
    if replica.status in ABSORBING:
        return refused(replica, "L15", to, "replica is terminal", REPLICA_TERMINAL)
    if replica.status is ReplicaStatus.LAUNCHING:
        return refused(replica, "L6", to, "instance_id_required")
    step = _next_sync(replica.sync_status, reported, replica.state_transfer_progress, progress)
    if step is None:
        return refused(replica, "L8", str(reported), f"sync_status {replica.sync_status} cannot become {reported}")
    previous = replica.status
    replica.sync_status, replica.state_transfer_progress = step
    replica.last_sync_at = now
    if latency_ms is not None:
        replica.sync_latency_ms = latency_ms
    if previous is ReplicaStatus.SYNCING and (
        status is ReplicaStatus.READY or replica.sync_status is SyncStatus.SYNCED
    ):
        return become_ready(replica, now)
    return Transition(Outcome.APPLIED, "L8" if previous is ReplicaStatus.READY else "L6", previous, previous)
