"""Replica sync reports (domain §3.3 L6-L8, sync sub-state table; api R7)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from spotopt.domain.replicas.guards import promotable
from spotopt.domain.replicas.lifecycle import EVENT_READY, INVALID_TRANSITION, REPLICA_TERMINAL, Outcome
from spotopt.domain.replicas.sync import apply_sync_report
from spotopt.domain.replicas.values import ReplicaStatus, SyncStatus
from spotopt.domain.shared.errors import InvalidValueError
from tests.unit.replicas.test_replica_lifecycle import NOW, make_in

S = ReplicaStatus
Y = SyncStatus

# (replica status, sub-state, reported sync_status) → (sub-state after, status after, rule) or None for a conflict.
SYNC_TABLE = [
    (S.SYNCING, Y.INITIALIZING, Y.INITIALIZING, (Y.INITIALIZING, S.SYNCING, "L6")),
    (S.SYNCING, Y.INITIALIZING, Y.SYNCING, (Y.SYNCING, S.SYNCING, "L6")),
    (S.SYNCING, Y.INITIALIZING, Y.SYNCED, (Y.SYNCED, S.READY, "L7")),
    (S.SYNCING, Y.INITIALIZING, Y.OUT_OF_SYNC, None),
    (S.SYNCING, Y.SYNCING, Y.INITIALIZING, (Y.SYNCING, S.SYNCING, "L6")),
    (S.SYNCING, Y.SYNCING, Y.SYNCING, (Y.SYNCING, S.SYNCING, "L6")),
    (S.SYNCING, Y.SYNCING, Y.SYNCED, (Y.SYNCED, S.READY, "L7")),
    (S.SYNCING, Y.SYNCING, Y.OUT_OF_SYNC, None),
    (S.READY, Y.SYNCED, Y.INITIALIZING, (Y.SYNCED, S.READY, "L8")),
    (S.READY, Y.SYNCED, Y.SYNCING, (Y.SYNCED, S.READY, "L8")),
    (S.READY, Y.SYNCED, Y.SYNCED, (Y.SYNCED, S.READY, "L8")),
    (S.READY, Y.SYNCED, Y.OUT_OF_SYNC, (Y.OUT_OF_SYNC, S.READY, "L8")),
    (S.READY, Y.OUT_OF_SYNC, Y.INITIALIZING, (Y.OUT_OF_SYNC, S.READY, "L8")),
    (S.READY, Y.OUT_OF_SYNC, Y.SYNCING, (Y.SYNCING, S.READY, "L8")),
    (S.READY, Y.OUT_OF_SYNC, Y.SYNCED, (Y.SYNCED, S.READY, "L8")),
    (S.READY, Y.OUT_OF_SYNC, Y.OUT_OF_SYNC, (Y.OUT_OF_SYNC, S.READY, "L8")),
]


@pytest.mark.parametrize(("status", "sub", "reported", "expected"), SYNC_TABLE)
def test_domain_sync_sub_state_table_moves_forward_ignores_backwards_and_refuses_unlisted(
    status: ReplicaStatus, sub: SyncStatus, reported: SyncStatus, expected: tuple[SyncStatus, ReplicaStatus, str] | None
) -> None:
    sut = make_in(status, sync_status=sub)

    transition = apply_sync_report(sut, sync_status=reported, now=NOW)

    if expected is None:
        assert transition.conflict is not None
        assert transition.conflict.code == INVALID_TRANSITION
        assert (sut.sync_status, sut.last_sync_at) == (sub, None)
    else:
        assert (sut.sync_status, sut.status, transition.rule) == expected
        assert sut.last_sync_at == NOW


def test_domain_l6_progress_and_latency_are_recorded() -> None:
    sut = make_in(S.SYNCING)

    transition = apply_sync_report(sut, progress=Decimal("42.5"), latency_ms=120, now=NOW)

    assert (transition.outcome, transition.rule) == (Outcome.APPLIED, "L6")
    assert (sut.state_transfer_progress, sut.sync_latency_ms, sut.last_sync_at) == (Decimal("42.5"), 120, NOW)


def test_domain_sync_progress_never_decreases_within_a_pass() -> None:
    sut = make_in(S.SYNCING, state_transfer_progress=Decimal(60))

    apply_sync_report(sut, progress=Decimal(30), now=NOW)

    assert sut.state_transfer_progress == 60


def test_domain_sync_out_of_sync_then_syncing_resets_progress_for_a_new_pass() -> None:
    sut = make_in(S.READY)
    apply_sync_report(sut, sync_status=Y.OUT_OF_SYNC, now=NOW)

    apply_sync_report(sut, sync_status=Y.SYNCING, progress=Decimal(20), now=NOW + timedelta(seconds=10))

    assert (sut.sync_status, sut.state_transfer_progress) == (Y.SYNCING, Decimal(20))


def test_domain_l8_out_of_sync_ready_replica_stays_ready_but_is_not_promotable() -> None:
    sut = make_in(S.READY)

    transition = apply_sync_report(sut, sync_status=Y.OUT_OF_SYNC, progress=Decimal(100), now=NOW)

    assert (transition.rule, sut.status, sut.sync_status) == ("L8", S.READY, Y.OUT_OF_SYNC)
    kwargs: dict[str, Any] = {"emergency": True, "episode_terminating": True, "deadline": None, "now": NOW}
    assert promotable(sut, any_ready_promotable=False, **kwargs) is None


def test_domain_sync_full_progress_brings_an_out_of_sync_replica_back_in_sync() -> None:
    sut = make_in(S.READY, sync_status=Y.OUT_OF_SYNC)

    apply_sync_report(sut, progress=Decimal(100), now=NOW)

    assert sut.sync_status is Y.SYNCED


def test_domain_sync_latency_only_report_keeps_an_out_of_sync_replica_out_of_sync() -> None:
    sut = make_in(S.READY, sync_status=Y.OUT_OF_SYNC)

    apply_sync_report(sut, latency_ms=5, now=NOW)

    assert sut.sync_status is Y.OUT_OF_SYNC


@pytest.mark.parametrize(
    "report",
    [{"progress": Decimal(100)}, {"sync_status": Y.SYNCED}, {"status": S.READY}],
    ids=["progress", "synced", "status"],
)
def test_domain_l7_progress_100_or_synced_or_ready_completes_a_syncing_replica(report: dict[str, Any]) -> None:
    sut = make_in(S.SYNCING, state_transfer_progress=Decimal(80))

    transition = apply_sync_report(sut, now=NOW, **report)

    assert (transition.rule, transition.events, transition.attempt_promotion) == ("L7", (EVENT_READY,), True)
    assert (sut.status, sut.sync_status, sut.state_transfer_progress, sut.ready_at) == (
        S.READY,
        Y.SYNCED,
        Decimal(100),
        NOW,
    )


def test_domain_l16_syncing_status_on_a_ready_replica_changes_no_status() -> None:
    sut = make_in(S.READY)

    transition = apply_sync_report(sut, status=S.SYNCING, now=NOW)

    assert (transition.rule, sut.status, sut.sync_status) == ("L8", S.READY, Y.SYNCED)


def test_domain_l6_launching_replica_has_nothing_to_sync() -> None:
    conflict = apply_sync_report(make_in(S.LAUNCHING), progress=Decimal(10), now=NOW).conflict

    assert conflict is not None
    assert (conflict.code, conflict.reason) == (INVALID_TRANSITION, "instance_id_required")


@pytest.mark.parametrize("status", [S.PROMOTED, S.TERMINATED, S.FAILED])
def test_r7_sync_report_to_an_absorbing_replica_is_replica_terminal(status: ReplicaStatus) -> None:
    conflict = apply_sync_report(make_in(status), latency_ms=1, now=NOW).conflict

    assert conflict is not None
    assert conflict.code == REPLICA_TERMINAL


@pytest.mark.parametrize(
    "report",
    [{"progress": Decimal(101)}, {"progress": Decimal(-1)}, {"latency_ms": -1}, {"status": S.FAILED}],
)
def test_r7_out_of_range_values_are_validation_errors(report: dict[str, Any]) -> None:
    with pytest.raises(InvalidValueError):
        apply_sync_report(make_in(S.SYNCING), now=NOW, **report)
