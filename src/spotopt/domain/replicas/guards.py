"""Replica guards and deadlines (domain §2.4 RP-4, RP-10; §3.3 L3, L9, L10): pure predicates, no mutation."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from spotopt.domain.replicas.replica import LAUNCH_LEASE_SECONDS, MAX_LAUNCH_CLAIMS, Replica
from spotopt.domain.replicas.values import ReplicaStatus, SyncStatus

LAUNCH_LEASE = timedelta(seconds=LAUNCH_LEASE_SECONDS)
LAUNCH_TIMEOUT = timedelta(minutes=15)
SYNC_TIMEOUT = timedelta(minutes=20)
DEGRADED_PROMOTION_WINDOW = timedelta(seconds=30)

LAUNCH_UNCONFIRMED = "launch_unconfirmed"
LAUNCH_TIMEOUT_REASON = "launch_timeout"
SYNC_TIMEOUT_REASON = "sync_timeout"


class PromotionKind(StrEnum):
    READY = "ready"  # RP-4a
    DEGRADED = "degraded"  # RP-4b


def is_launch_request(replica: Replica) -> bool:
    """Glossary: a replica in ``launching`` without an instance id."""
    return replica.is_launch_request


def is_claimable(replica: Replica, now: datetime) -> bool:
    """L3 guard: a launch request, never claimed or its lease expired, fewer than 3 claims."""
    lease = replica.launch_lease_expires_at
    return is_launch_request(replica) and replica.launch_claims < MAX_LAUNCH_CLAIMS and (lease is None or lease <= now)


def launch_request_expired(replica: Replica, now: datetime) -> str | None:
    """RP-10/L9: the failure reason of a launch request that has to fail now, else None.

    Claims fail the request only once the 3rd lease has expired, never at the 3rd claim itself: the
    launcher may be starting the instance and its R5 must still find the replica in ``launching``.
    """
    if not is_launch_request(replica):
        return None
    lease = replica.launch_lease_expires_at
    if replica.launch_claims >= MAX_LAUNCH_CLAIMS and lease is not None and lease <= now:
        return LAUNCH_UNCONFIRMED
    if now - replica.created_at >= LAUNCH_TIMEOUT:
        return LAUNCH_TIMEOUT_REASON
    return None


def sync_expired(replica: Replica, now: datetime) -> bool:
    """L10: a replica ``syncing`` for 20 min fails (``sync_timeout``)."""
    started = replica.sync_started_at or replica.created_at
    return replica.status is ReplicaStatus.SYNCING and now - started >= SYNC_TIMEOUT


def promotable(
    replica: Replica,
    *,
    emergency: bool,
    episode_terminating: bool,
    deadline: datetime | None,
    now: datetime,
    any_ready_promotable: bool,
) -> PromotionKind | None:
    """RP-4: (a) ready and not out-of-sync; (b) emergency only, syncing with an instance, deadline - now < 30 s."""
    if replica.status is ReplicaStatus.READY and replica.sync_status is not SyncStatus.OUT_OF_SYNC:
        return PromotionKind.READY
    degraded = (
        emergency
        and episode_terminating
        and not any_ready_promotable
        and replica.status is ReplicaStatus.SYNCING
        and replica.instance_id is not None
        and deadline is not None
        and deadline - now < DEGRADED_PROMOTION_WINDOW
    )
    return PromotionKind.DEGRADED if degraded else None
