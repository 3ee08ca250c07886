"""Agent status reports of a replica (R6, domain §3.3): the (current, reported) status table that picks the
transition, L4/L5/L7/L9/L10/L12/L13/L15/L16; a pair missing from the table is a conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from spotopt.domain.replicas.lifecycle import (
    ABSORBING,
    INSTANCE_ID_CONFLICT,
    REFUSING_RULE,
    REPORTED_FAILED,
    Outcome,
    Transition,
    attach,
    become_ready,
    fail,
    noop,
    refused,
    stamp,
)
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaStatus, SyncStatus
from spotopt.domain.shared.ids import InstanceId


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
    return attach(r.replica, r.instance_id, r.reported, r.now)


def _report_failed(r: _Report) -> Transition:
    return fail(r.replica, r.error_message or REPORTED_FAILED, r.now)


def _report_terminated(r: _Report) -> Transition:
    """L12: the agent says the replica's instance is gone (confirmed)."""
    replica, previous = r.replica, r.replica.status
    replica.status = ReplicaStatus.TERMINATED
    replica.termination_reason = replica.termination_reason or "reported"
    stamp(replica, "terminated_at", r.now)
    stamp(replica, "termination_confirmed_at", r.now)
    return Transition(
        Outcome.APPLIED, "L12", previous, replica.status, instance_terminated=replica.instance_id is not None
    )


def _report_confirm(r: _Report) -> Transition:
    """L13: confirmation of an already terminated replica (once)."""
    if r.replica.termination_confirmed_at is not None:
        return noop(r.replica, "L13")
    r.replica.termination_confirmed_at = r.now
    status = r.replica.status
    return Transition(Outcome.APPLIED, "L13", status, status, instance_terminated=r.replica.instance_id is not None)


def _report_syncing_again(r: _Report) -> Transition:
    """L16, except that an ``initializing`` sub-state still starts syncing (sync sub-state table)."""
    if r.replica.sync_status is SyncStatus.INITIALIZING:
        r.replica.sync_status = SyncStatus.SYNCING
        return Transition(Outcome.APPLIED, "L6", r.replica.status, r.replica.status)
    return noop(r.replica, "L16")


def _already(rule: str) -> Callable[[_Report], Transition]:
    return lambda r: noop(r.replica, rule)


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
        rule = REFUSING_RULE.get(replica.status, "L14")
        return refused(replica, rule, reported_status, f"{replica.status} does not accept {reported_status}")
    return handler(_Report(replica, reported_status, instance_id or replica.instance_id, error_message, now))
