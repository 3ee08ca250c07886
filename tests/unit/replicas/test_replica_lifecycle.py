"""Replica lifecycle (domain §2.4 RP-2, RP-3, RP-4, RP-10; §3.3 L1-L16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.domain.agents.values import KeptReason
from spotopt.domain.replicas.guards import (
    LAUNCH_TIMEOUT_REASON,
    LAUNCH_UNCONFIRMED,
    PromotionKind,
    is_claimable,
    launch_request_expired,
    promotable,
    sync_expired,
)
from spotopt.domain.replicas.lifecycle import (
    EVENT_FAILED,
    EVENT_LAUNCH_MAY_BE_RUNNING,
    EVENT_READY,
    INSTANCE_ID_CONFLICT,
    INVALID_TRANSITION,
    REPLICA_IN_EPISODE,
    REPLICA_NOT_PROMOTABLE,
    REPLICA_TERMINAL,
    Outcome,
    RetireReason,
    Transition,
    attach_instance,
    claim_launch,
    fail,
    promote,
    retire,
)
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.status_reports import apply_status_report
from spotopt.domain.replicas.sync import apply_sync_report
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus, SyncStatus
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError
from spotopt.domain.shared.ids import AgentId, ClientId, EpisodeId, InstanceId, ReplicaId

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
IID = InstanceId("i-07c1d2e3f4a5b6c7d")
OTHER_IID = InstanceId("i-0a1b2c3d")
S = ReplicaStatus


def make_replica(**overrides: Any) -> Replica:
    fields: dict[str, Any] = {
        "replica_id": ReplicaId("r-1"),
        "client_id": ClientId("c-1"),
        "agent_id": AgentId("a-1"),
        "kind": ReplicaKind.MANUAL,
        "status": ReplicaStatus.LAUNCHING,
        "pool_id": "t3.medium.us-east-1d",
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1d",
        "created_by": "coordinator",
        "created_at": T0,
    }
    fields.update(overrides)
    return Replica(**fields)


def make_in(status: ReplicaStatus, **overrides: Any) -> Replica:
    """A replica that reached ``status`` the normal way (instance id once launched, sync sub-state to match)."""
    at = T0 + timedelta(minutes=1)
    fields: dict[str, Any] = {"status": status}
    if status is not S.LAUNCHING:
        fields |= {"instance_id": IID, "launched_at": at, "sync_started_at": at, "sync_status": SyncStatus.SYNCING}
    if status in (S.READY, S.PROMOTED):
        fields |= {"ready_at": at, "sync_status": SyncStatus.SYNCED, "state_transfer_progress": Decimal(100)}
    ends: dict[ReplicaStatus, dict[str, Any]] = {
        S.PROMOTED: {"promoted_at": at},
        S.TERMINATED: {"terminated_at": at, "termination_reason": "client_request"},
        S.FAILED: {"failed_at": at, "failure_reason": "boom"},
    }
    fields |= ends.get(status, {})
    fields.update(overrides)
    return make_replica(**fields)


NOW = T0 + timedelta(minutes=5)

# (from, reported) → (outcome, rule, resulting status); every pair of the status report (R6) is listed.
STATUS_TABLE = [
    (S.LAUNCHING, S.LAUNCHING, Outcome.NOOP, "L16", S.LAUNCHING),
    (S.LAUNCHING, S.SYNCING, Outcome.CONFLICT, "L4", S.LAUNCHING),
    (S.LAUNCHING, S.READY, Outcome.CONFLICT, "L4", S.LAUNCHING),
    (S.LAUNCHING, S.FAILED, Outcome.APPLIED, "L9", S.FAILED),
    (S.LAUNCHING, S.TERMINATED, Outcome.APPLIED, "L12", S.TERMINATED),
    (S.LAUNCHING, S.PROMOTED, Outcome.CONFLICT, "L14", S.LAUNCHING),
    (S.SYNCING, S.LAUNCHING, Outcome.NOOP, "L16", S.SYNCING),
    (S.SYNCING, S.SYNCING, Outcome.NOOP, "L16", S.SYNCING),
    (S.SYNCING, S.READY, Outcome.APPLIED, "L7", S.READY),
    (S.SYNCING, S.FAILED, Outcome.APPLIED, "L10", S.FAILED),
    (S.SYNCING, S.TERMINATED, Outcome.APPLIED, "L12", S.TERMINATED),
    (S.SYNCING, S.PROMOTED, Outcome.CONFLICT, "L14", S.SYNCING),
    (S.READY, S.LAUNCHING, Outcome.NOOP, "L16", S.READY),
    (S.READY, S.SYNCING, Outcome.NOOP, "L16", S.READY),
    (S.READY, S.READY, Outcome.NOOP, "L16", S.READY),
    (S.READY, S.FAILED, Outcome.APPLIED, "L10", S.FAILED),
    (S.READY, S.TERMINATED, Outcome.APPLIED, "L12", S.TERMINATED),
    (S.READY, S.PROMOTED, Outcome.CONFLICT, "L14", S.READY),
    (S.PROMOTED, S.LAUNCHING, Outcome.CONFLICT, "L15", S.PROMOTED),
    (S.PROMOTED, S.SYNCING, Outcome.CONFLICT, "L15", S.PROMOTED),
    (S.PROMOTED, S.READY, Outcome.CONFLICT, "L15", S.PROMOTED),
    (S.PROMOTED, S.FAILED, Outcome.CONFLICT, "L15", S.PROMOTED),
    (S.PROMOTED, S.TERMINATED, Outcome.CONFLICT, "L15", S.PROMOTED),
    (S.PROMOTED, S.PROMOTED, Outcome.NOOP, "L15", S.PROMOTED),
    (S.FAILED, S.LAUNCHING, Outcome.CONFLICT, "L15", S.FAILED),
    (S.FAILED, S.SYNCING, Outcome.CONFLICT, "L15", S.FAILED),
    (S.FAILED, S.READY, Outcome.CONFLICT, "L15", S.FAILED),
    (S.FAILED, S.FAILED, Outcome.NOOP, "L15", S.FAILED),
    (S.FAILED, S.TERMINATED, Outcome.CONFLICT, "L15", S.FAILED),
    (S.FAILED, S.PROMOTED, Outcome.CONFLICT, "L15", S.FAILED),
    (S.TERMINATED, S.LAUNCHING, Outcome.CONFLICT, "L13", S.TERMINATED),
    (S.TERMINATED, S.SYNCING, Outcome.CONFLICT, "L13", S.TERMINATED),
    (S.TERMINATED, S.READY, Outcome.CONFLICT, "L13", S.TERMINATED),
    (S.TERMINATED, S.FAILED, Outcome.CONFLICT, "L13", S.TERMINATED),
    (S.TERMINATED, S.TERMINATED, Outcome.APPLIED, "L13", S.TERMINATED),
    (S.TERMINATED, S.PROMOTED, Outcome.CONFLICT, "L13", S.TERMINATED),
]


@pytest.mark.parametrize(("start", "reported", "outcome", "rule", "end"), STATUS_TABLE)
def test_domain_l_status_report_table_applies_ignores_or_refuses_every_pair(
    start: ReplicaStatus, reported: ReplicaStatus, outcome: Outcome, rule: str, end: ReplicaStatus
) -> None:
    sut = make_in(start)

    transition = apply_status_report(sut, reported, now=NOW)

    assert (transition.outcome, transition.rule, sut.status) == (outcome, rule, end)
    assert transition.previous_status is start
    assert transition.status is end


@pytest.mark.parametrize(
    ("start", "reported"), [(row[0], row[1]) for row in STATUS_TABLE if row[2] is not Outcome.APPLIED]
)
def test_domain_l15_l16_noop_and_conflict_change_nothing(start: ReplicaStatus, reported: ReplicaStatus) -> None:
    sut = make_in(start)
    before = {name: getattr(sut, name) for name in Replica.__slots__}

    apply_status_report(sut, reported, error_message="late", now=NOW)

    assert {name: getattr(sut, name) for name in Replica.__slots__} == before


def test_domain_l15_conflict_carries_from_to_and_reason_for_invalid_transition() -> None:
    transition = apply_status_report(make_in(S.FAILED), S.READY, now=NOW)

    assert transition.conflict is not None
    with pytest.raises(RuleConflictError) as caught:
        transition.raise_for_conflict()
    assert caught.value.code == INVALID_TRANSITION
    assert caught.value.detail["from"] == "failed"
    assert caught.value.detail["to"] == "ready"
    assert caught.value.detail["reason"]


def test_domain_l4_status_report_with_instance_id_starts_syncing_and_makes_it_standby() -> None:
    sut = make_replica()

    transition = apply_status_report(sut, S.SYNCING, instance_id=IID, now=NOW)

    assert (transition.rule, transition.instance_to_standby, transition.attempt_promotion) == ("L4", True, False)
    assert (sut.status, sut.instance_id, sut.sync_status) == (S.SYNCING, IID, SyncStatus.SYNCING)
    assert sut.launched_at == sut.sync_started_at == NOW


def test_domain_l4_syncing_report_without_instance_id_is_refused() -> None:
    transition = apply_status_report(make_replica(), S.SYNCING, now=NOW)

    assert transition.conflict is not None
    assert transition.conflict.reason == "instance_id_required"


def test_domain_l5_attach_with_ready_goes_straight_to_ready() -> None:
    sut = make_replica()

    transition = attach_instance(sut, IID, S.READY, now=NOW)

    assert transition.rule == "L5"
    assert transition.instance_to_standby
    assert transition.attempt_promotion
    assert transition.events == (EVENT_READY,)
    assert (sut.status, sut.sync_status, sut.state_transfer_progress) == (S.READY, SyncStatus.SYNCED, Decimal(100))
    assert sut.launched_at == sut.sync_started_at == sut.ready_at == NOW


def test_domain_l7_ready_report_sets_ready_at_synced_and_full_progress_and_asks_for_promotion() -> None:
    sut = make_in(S.SYNCING, state_transfer_progress=Decimal(40))

    transition = apply_status_report(sut, S.READY, now=NOW)

    assert transition.events == (EVENT_READY,)
    assert transition.attempt_promotion
    assert (sut.ready_at, sut.sync_status, sut.state_transfer_progress) == (NOW, SyncStatus.SYNCED, Decimal(100))


def test_domain_l6_syncing_report_moves_initializing_sub_state_to_syncing() -> None:
    sut = make_in(S.SYNCING, sync_status=SyncStatus.INITIALIZING)

    transition = apply_status_report(sut, S.SYNCING, now=NOW)

    assert (transition.outcome, transition.rule, sut.sync_status) == (Outcome.APPLIED, "L6", SyncStatus.SYNCING)


def test_domain_l9_failed_launch_request_records_reason_and_emits_replica_failed() -> None:
    sut = make_replica()

    transition = apply_status_report(sut, S.FAILED, error_message="InsufficientInstanceCapacity", now=NOW)

    assert transition.events == (EVENT_FAILED,)
    assert transition.instance_kept_reason is None
    assert (sut.failure_reason, sut.failed_at) == ("InsufficientInstanceCapacity", NOW)


@pytest.mark.parametrize(
    ("reason", "kept"),
    [("reported_failed", KeptReason.TERMINATION_REQUESTED), ("interrupted", KeptReason.AWAITING_TERMINATION)],
)
def test_domain_l10_failed_standby_sends_its_instance_to_kept_old(reason: str, kept: KeptReason) -> None:
    sut = make_in(S.READY)

    transition = fail(sut, reason, NOW)

    assert (transition.rule, transition.instance_kept_reason) == ("L10", kept)
    assert sut.status is S.FAILED


def test_domain_l10_syncing_for_20_minutes_times_out() -> None:
    sut = make_in(S.SYNCING, sync_started_at=T0)

    assert not sync_expired(sut, T0 + timedelta(minutes=20) - timedelta(seconds=1))
    assert sync_expired(sut, T0 + timedelta(minutes=20))
    assert not sync_expired(make_in(S.READY, sync_started_at=T0), T0 + timedelta(hours=1))


def test_domain_l11_retire_terminates_and_requests_instance_termination() -> None:
    sut = make_in(S.READY)

    transition = retire(sut, RetireReason.CLIENT_REQUEST, NOW)

    assert (transition.rule, transition.instance_kept_reason, transition.events) == (
        "L11",
        KeptReason.TERMINATION_REQUESTED,
        (),
    )
    assert (sut.status, sut.terminated_at, sut.termination_reason) == (S.TERMINATED, NOW, "client_request")


def test_domain_l11_retiring_a_claimed_launch_request_warns_it_may_be_running() -> None:
    claimed = make_replica(launch_claims=1, launch_lease_expires_at=NOW + timedelta(seconds=1))
    expired = make_replica(launch_claims=1, launch_lease_expires_at=NOW)

    assert retire(claimed, RetireReason.EPISODE_CLOSED, NOW).events == (EVENT_LAUNCH_MAY_BE_RUNNING,)
    assert retire(expired, RetireReason.EPISODE_CLOSED, NOW).events == ()


def test_domain_l11_retire_is_idempotent_and_refuses_promoted_or_failed() -> None:
    done = make_in(S.TERMINATED)

    assert retire(done, RetireReason.CLIENT_REQUEST, NOW).outcome is Outcome.NOOP
    assert done.terminated_at == T0 + timedelta(minutes=1)
    for status in (S.PROMOTED, S.FAILED):
        conflict = retire(make_in(status), RetireReason.CLIENT_REQUEST, NOW).conflict
        assert conflict is not None
        assert conflict.code == REPLICA_TERMINAL


@pytest.mark.parametrize("reason", [RetireReason.MODE_CHANGED, RetireReason.EXTRA])
def test_rp7_mode_change_and_upkeep_do_not_retire_an_open_episodes_replica(reason: RetireReason) -> None:
    sut = make_in(S.SYNCING, episode_id=EpisodeId("e-1"))

    transition = retire(sut, reason, NOW, episode_open=True)

    assert transition.conflict is not None
    assert transition.conflict.code == REPLICA_IN_EPISODE
    assert sut.status is S.SYNCING


def test_rp7_closing_the_episode_retires_its_replica() -> None:
    sut = make_in(S.SYNCING, episode_id=EpisodeId("e-1"))

    assert retire(sut, RetireReason.EPISODE_CLOSED, NOW, episode_open=True).applied


def test_domain_l12_terminated_report_confirms_termination_of_the_instance() -> None:
    sut = make_in(S.SYNCING)

    transition = apply_status_report(sut, S.TERMINATED, now=NOW)

    assert transition.instance_terminated
    assert sut.terminated_at == sut.termination_confirmed_at == NOW


def test_domain_l13_confirmation_is_written_once() -> None:
    sut = make_in(S.TERMINATED)

    first = apply_status_report(sut, S.TERMINATED, now=NOW)
    second = apply_status_report(sut, S.TERMINATED, now=NOW + timedelta(minutes=1))

    assert (first.outcome, first.instance_terminated) == (Outcome.APPLIED, True)
    assert second.outcome is Outcome.NOOP
    assert sut.termination_confirmed_at == NOW


def test_domain_l14_promotion_of_a_ready_replica_is_recorded_once() -> None:
    sut = make_in(S.READY)

    first = promote(sut, PromotionKind.READY, NOW)
    repeat = promote(sut, PromotionKind.READY, NOW + timedelta(seconds=5))

    assert (first.outcome, repeat.outcome) == (Outcome.APPLIED, Outcome.NOOP)
    assert (sut.status, sut.promoted_at, sut.degraded_promotion) == (S.PROMOTED, NOW, False)


def test_rp4b_degraded_promotion_marks_the_replica() -> None:
    sut = make_in(S.SYNCING)

    promote(sut, PromotionKind.DEGRADED, NOW)

    assert (sut.status, sut.degraded_promotion) == (S.PROMOTED, True)


def test_domain_l14_refuses_a_replica_of_the_wrong_status() -> None:
    transition = promote(make_in(S.SYNCING), PromotionKind.READY, NOW)

    assert transition.conflict is not None
    assert transition.conflict.code == REPLICA_NOT_PROMOTABLE


def test_rp3_attach_with_another_instance_id_is_an_instance_id_conflict() -> None:
    sut = make_in(S.SYNCING)

    transition = attach_instance(sut, OTHER_IID, now=NOW)

    assert transition.conflict is not None
    assert transition.conflict.code == INSTANCE_ID_CONFLICT
    assert sut.instance_id == IID


def test_rp3_status_report_naming_another_instance_id_is_refused() -> None:
    sut = make_in(S.SYNCING)

    transition = apply_status_report(sut, S.READY, instance_id=OTHER_IID, now=NOW)

    assert transition.conflict is not None
    assert transition.conflict.code == INSTANCE_ID_CONFLICT
    assert sut.status is S.SYNCING


@pytest.mark.parametrize("start", [S.SYNCING, S.READY, S.PROMOTED])
def test_domain_l16_attaching_the_same_instance_again_is_a_noop(start: ReplicaStatus) -> None:
    sut = make_in(start)

    assert attach_instance(sut, IID, S.SYNCING, now=NOW).outcome is Outcome.NOOP
    assert sut.status is start


def test_domain_l7_same_instance_with_ready_completes_a_syncing_replica() -> None:
    sut = make_in(S.SYNCING)

    assert attach_instance(sut, IID, S.READY, now=NOW).rule == "L7"
    assert sut.status is S.READY


@pytest.mark.parametrize("start", [S.TERMINATED, S.FAILED])
def test_r5_attach_to_a_terminal_replica_is_replica_terminal(start: ReplicaStatus) -> None:
    conflict = attach_instance(make_in(start), IID, now=NOW).conflict

    assert conflict is not None
    assert conflict.code == REPLICA_TERMINAL


def test_in5_attach_rejects_a_placeholder_instance_id() -> None:
    with pytest.raises(InvalidValueError):
        attach_instance(make_replica(), "unknown", now=NOW)


def test_domain_l3_claim_leases_the_launch_request_for_180_seconds() -> None:
    sut = make_replica()

    transition = claim_launch(sut, NOW)

    assert (transition.rule, sut.launch_claims, sut.launch_lease_expires_at) == (
        "L3",
        1,
        NOW + timedelta(seconds=180),
    )
    assert not is_claimable(sut, NOW + timedelta(seconds=179))
    assert claim_launch(sut, NOW + timedelta(seconds=179)).outcome is Outcome.CONFLICT
    assert claim_launch(sut, NOW + timedelta(seconds=180)).applied
    assert sut.launch_claims == 2


def test_rp10_no_fourth_claim_and_no_claim_once_launched() -> None:
    sut = make_replica(launch_claims=3, launch_lease_expires_at=NOW)

    assert not is_claimable(sut, NOW + timedelta(hours=1))
    assert not is_claimable(make_in(S.SYNCING), NOW)


def test_rp10_third_claim_fails_the_request_only_when_its_lease_expires() -> None:
    sut = make_replica(launch_claims=2, launch_lease_expires_at=NOW)
    claim_launch(sut, NOW)
    lease_end = NOW + timedelta(seconds=180)

    assert launch_request_expired(sut, NOW) is None
    assert launch_request_expired(sut, lease_end - timedelta(seconds=1)) is None
    assert launch_request_expired(sut, lease_end) == LAUNCH_UNCONFIRMED


def test_rp10_launcher_may_still_attach_after_the_third_claim() -> None:
    sut = make_replica(launch_claims=2, launch_lease_expires_at=NOW)
    claim_launch(sut, NOW)

    transition = attach_instance(sut, IID, now=NOW + timedelta(seconds=170))

    assert transition.rule == "L4"
    assert launch_request_expired(sut, NOW + timedelta(hours=1)) is None


def test_rp10_fifteen_minutes_in_launching_is_a_launch_timeout() -> None:
    sut = make_replica(launch_claims=1, launch_lease_expires_at=T0 + timedelta(minutes=3))

    assert launch_request_expired(sut, T0 + timedelta(minutes=15) - timedelta(seconds=1)) is None
    assert launch_request_expired(sut, T0 + timedelta(minutes=15)) == LAUNCH_TIMEOUT_REASON


DEADLINE = NOW + timedelta(seconds=20)


def _promotable(replica: Replica, **overrides: Any) -> PromotionKind | None:
    args: dict[str, Any] = {
        "emergency": True,
        "episode_terminating": True,
        "deadline": DEADLINE,
        "now": NOW,
        "any_ready_promotable": False,
    }
    args.update(overrides)
    return promotable(replica, **args)


def test_rp4a_ready_replica_in_sync_is_promotable_on_any_path() -> None:
    assert _promotable(make_in(S.READY), emergency=False, episode_terminating=False) is PromotionKind.READY
    assert _promotable(make_in(S.READY, sync_status=SyncStatus.OUT_OF_SYNC)) is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, PromotionKind.DEGRADED),
        ({"deadline": NOW + timedelta(seconds=30)}, None),
        ({"deadline": NOW + timedelta(seconds=29)}, PromotionKind.DEGRADED),
        ({"deadline": NOW - timedelta(minutes=1)}, PromotionKind.DEGRADED),
        ({"deadline": None}, None),
        ({"emergency": False}, None),
        ({"episode_terminating": False}, None),
        ({"any_ready_promotable": True}, None),
    ],
)
def test_rp4b_syncing_replica_is_promotable_degraded_only_in_the_last_30_seconds(
    overrides: dict[str, Any], expected: PromotionKind | None
) -> None:
    assert _promotable(make_in(S.SYNCING), **overrides) is expected


def test_rp4b_needs_an_instance_id() -> None:
    assert _promotable(make_replica(status=S.SYNCING)) is None
    assert _promotable(make_replica()) is None


# --- RP-2 / RP-3 properties -------------------------------------------------------------------------------

RANK = {S.LAUNCHING: 0, S.SYNCING: 1, S.READY: 2, S.PROMOTED: 3, S.TERMINATED: 3, S.FAILED: 3}
TIMESTAMPS = (
    "launched_at",
    "sync_started_at",
    "ready_at",
    "promoted_at",
    "terminated_at",
    "termination_confirmed_at",
    "failed_at",
)

_ids = st.sampled_from([IID, OTHER_IID])
_reports = st.one_of(
    st.tuples(st.just("status"), st.sampled_from(list(S)), st.none() | _ids),
    st.tuples(st.just("attach"), _ids, st.sampled_from([S.SYNCING, S.READY])),
    st.tuples(
        st.just("sync"),
        st.none() | st.sampled_from(list(SyncStatus)),
        st.none() | st.integers(0, 100).map(Decimal),
        st.none() | st.sampled_from([S.SYNCING, S.READY]),
    ),
    st.tuples(st.just("claim")),
)
_endings = st.one_of(
    st.tuples(st.just("retire"), st.sampled_from(list(RetireReason)), st.booleans()),
    st.tuples(st.just("fail"), st.sampled_from(["interrupted", "launch_timeout"])),
    st.tuples(st.just("promote"), st.sampled_from(list(PromotionKind))),
)
# Reports outnumber endings so that sequences spend time in the live states.
_operations = st.one_of(_reports, _reports, _reports, _endings)


def _run(replica: Replica, operation: tuple[Any, ...], now: datetime) -> Transition:
    match operation:
        case ("status", status, iid):
            return apply_status_report(replica, status, instance_id=iid, now=now)
        case ("attach", iid, status):
            return attach_instance(replica, iid, status, now=now)
        case ("sync", sync_status, progress, status):
            return apply_sync_report(replica, sync_status=sync_status, progress=progress, status=status, now=now)
        case ("claim",):
            return claim_launch(replica, now)
        case ("retire", reason, episode_open):
            return retire(replica, reason, now, episode_open=episode_open)
        case ("fail", reason):
            return fail(replica, reason, now)
        case ("promote", kind):
            return promote(replica, kind, now)
    raise AssertionError(operation)


def _snapshot(replica: Replica) -> dict[str, object]:
    return {name: getattr(replica, name) for name in Replica.__slots__}


@given(
    start=st.sampled_from([S.LAUNCHING, S.SYNCING]),
    steps=st.lists(st.tuples(_operations, st.integers(0, 400)), max_size=25),
)
@settings(max_examples=150)
def test_rp2_rp3_no_sequence_of_reports_moves_a_replica_back_rewrites_a_time_or_changes_its_instance(
    start: ReplicaStatus, steps: list[tuple[tuple[Any, ...], int]]
) -> None:
    sut = make_in(start, episode_id=EpisodeId("e-1"))
    now = NOW
    for operation, seconds in steps:
        now += timedelta(seconds=seconds)
        before = _snapshot(sut)
        try:
            transition = _run(sut, operation, now)
        except InvalidValueError:
            continue
        after = _snapshot(sut)
        assert transition.previous_status is before["status"]
        assert RANK[sut.status] >= RANK[before["status"]]
        if before["status"] in (S.PROMOTED, S.TERMINATED, S.FAILED):
            assert sut.status is before["status"]
        for name in TIMESTAMPS:
            assert before[name] is None or after[name] == before[name]
        assert before["instance_id"] is None or after["instance_id"] == before["instance_id"]
        if transition.outcome is not Outcome.APPLIED:
            assert after == before
        assert Decimal(0) <= sut.state_transfer_progress <= 100


@given(steps=st.lists(st.tuples(_operations, st.integers(0, 60)), max_size=25))
@settings(max_examples=150)
def test_domain_sync_progress_only_drops_when_an_out_of_sync_pass_restarts(
    steps: list[tuple[tuple[Any, ...], int]],
) -> None:
    sut = make_in(S.SYNCING)
    now = NOW
    for operation, seconds in steps:
        now += timedelta(seconds=seconds)
        before_sync, before_progress = sut.sync_status, sut.state_transfer_progress
        try:
            _run(sut, operation, now)
        except InvalidValueError:
            continue
        restarted = before_sync is SyncStatus.OUT_OF_SYNC and sut.sync_status is SyncStatus.SYNCING
        assert restarted or sut.state_transfer_progress >= before_progress


def test_rp2_attach_never_moves_a_replica_without_instance_back_to_syncing() -> None:
    sut = make_replica(status=S.READY)

    transition = attach_instance(sut, IID, now=NOW)

    assert transition.outcome is Outcome.CONFLICT
    assert (sut.status, sut.instance_id) == (S.READY, None)


def test_domain_l13_failing_a_terminated_replica_is_replica_terminal() -> None:
    transition = fail(make_in(S.TERMINATED), "late", NOW)

    assert transition.conflict is not None
    assert (transition.rule, transition.conflict.code) == ("L13", REPLICA_TERMINAL)
