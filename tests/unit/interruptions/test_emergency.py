"""What interruption signals lead to (domain §3.5, §3.7.2, EP-4), the R8/R9 answers the HTTP edge gives for each
outcome (api A10, R8, R9; pitfall 4), episode time rules and RP-6.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.interruptions.signal_intake import SignalOutcome
from spotopt.domain.interruptions.emergency import (
    Action,
    CoordinatorStep,
    ReplicaFate,
    TerminationFacts,
    TerminationOutcome,
    TerminationStep,
    coordinator_step,
    deadline_passed,
    episode_lost,
    rebalance_action,
    rebalance_expired,
    released_replica_fate,
    replacement_allowed,
    secure_replica,
    termination_outcome,
)
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.interruptions.values import AttributedRole, EpisodeState, SignalKind
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.errors import RuleConflictError
from spotopt.domain.shared.ids import AgentId, ClientId, EpisodeId, InstanceId, ReplicaId
from spotopt.entrypoints.http.interruptions.answers import Answer, r8_answer, r9_answer

T0 = datetime(2026, 11, 28, 9, 40, tzinfo=UTC)
S = ReplicaStatus


def signal_outcome(action: Action, *, created: bool, kind: SignalKind = SignalKind.TERMINATION) -> SignalOutcome:
    return SignalOutcome(
        kind=kind,
        attributed_role=AttributedRole.PRIMARY,
        episode=None,
        replica=None,
        created=created,
        action=action,
        now=T0,
    )


def route_answers(facts: TerminationFacts, outcome: TerminationOutcome) -> tuple[Answer, Answer]:
    """(R9, R8) for the notice whose §3.7.2 outcome this is."""
    signal = signal_outcome(outcome.action, created=facts.replica_created)
    return r9_answer(signal), r8_answer(signal)


def make_episode(**overrides: Any) -> InterruptionEpisode:
    fields: dict[str, Any] = {
        "episode_id": EpisodeId("e-1"),
        "client_id": ClientId("c-1"),
        "agent_id": AgentId("a-1"),
        "instance_id": InstanceId("i-0a1b2c3d4e5f67890"),
        "state": EpisodeState.AT_RISK,
        "opened_at": T0,
        "pool_id": "t3.medium.us-east-1a",
        "first_rebalance_at": T0,
        "last_rebalance_at": T0,
    }
    fields.update(overrides)
    return InterruptionEpisode(**fields)


@pytest.mark.parametrize(
    ("status", "has_pool", "action"),
    [
        (S.READY, True, Action.STANDBY_READY),
        (S.LAUNCHING, True, Action.STANDBY_PREPARING),
        (S.SYNCING, False, Action.STANDBY_PREPARING),
        (None, True, Action.STANDBY_PREPARING),
        (None, False, Action.NO_ALTERNATIVE_POOL),
        (S.FAILED, False, Action.NO_ALTERNATIVE_POOL),
        (S.TERMINATED, True, Action.NO_ALTERNATIVE_POOL),
    ],
)
def test_domain_35_rebalance_action_follows_the_episode_replica(
    status: ReplicaStatus | None, has_pool: bool, action: Action
) -> None:
    assert rebalance_action(status, has_pool) is action


@pytest.mark.parametrize("status", [S.READY, S.SYNCING])
def test_domain_v5_rebalance_during_terminating_answers_with_the_replica_status_code(status: ReplicaStatus) -> None:
    expected = Action.STANDBY_READY if status is S.READY else Action.STANDBY_PREPARING

    assert rebalance_action(status, True) is expected


@pytest.mark.parametrize("role", [AttributedRole.STANDBY, AttributedRole.KEPT_OLD, AttributedRole.UNKNOWN])
def test_a10_signal_not_from_the_primary_answers_none(role: AttributedRole) -> None:
    assert rebalance_action(S.READY, True, attributed_role=role) is Action.NONE


@pytest.mark.parametrize(
    ("status", "has_pool", "created", "r8"),
    [
        (S.LAUNCHING, True, True, Answer(201)),
        (S.READY, True, False, Answer(200)),
        (None, False, False, Answer(409, "no_replica")),
    ],
)
def test_r8_rebalance_answers(status: ReplicaStatus | None, has_pool: bool, created: bool, r8: Answer) -> None:
    outcome = signal_outcome(rebalance_action(status, has_pool), created=created, kind=SignalKind.REBALANCE)

    assert r8_answer(outcome) == r8
    assert r8_answer(outcome).success is (True if r8.status < 400 else None)


@pytest.mark.parametrize("kind", list(SignalKind))
def test_ep7_r8_r9_a_signal_not_on_the_primary_is_409_not_primary(kind: SignalKind) -> None:
    outcome = signal_outcome(Action.NONE, created=False, kind=kind)

    assert r8_answer(outcome) == r9_answer(outcome) == Answer(409, "not_primary")


F = TerminationFacts
R9_200 = Answer(200)
R9_202 = Answer(202)
R8_200 = Answer(200)
R8_201 = Answer(201)
R8_409 = Answer(409, "no_replica")

# Every cell of the R8/R9 decision table: facts → (step, action, EP-4 success, R9 answer, R8 answer).
TERMINATION_TABLE = [
    ("replay", F(already_failed_over=True), TerminationStep.REPLAY, Action.REPLICA_PROMOTED, True, R9_200, R8_200),
    (
        "replay-beats-all",
        F(already_failed_over=True, agent_enabled=False),
        TerminationStep.REPLAY,
        Action.REPLICA_PROMOTED,
        True,
        R9_200,
        R8_200,
    ),
    (
        "ready",
        F(ready_promotable=True, has_replica=True),
        TerminationStep.PROMOTE,
        Action.REPLICA_PROMOTED,
        True,
        R9_200,
        R8_200,
    ),
    (
        "ready-agent-disabled",
        F(ready_promotable=True, has_replica=True, agent_enabled=False),
        TerminationStep.PROMOTE,
        Action.REPLICA_PROMOTED,
        True,
        R9_200,
        R8_200,
    ),
    ("no-replica", F(), TerminationStep.QUEUE_FALLBACK, Action.ONDEMAND_FALLBACK_QUEUED, False, R9_202, R8_409),
    (
        "no-replica-fallback-exists",
        F(fallback_queued=True),
        TerminationStep.KEEP_FALLBACK,
        Action.ONDEMAND_FALLBACK_QUEUED,
        False,
        R9_202,
        R8_409,
    ),
    (
        "no-replica-agent-disabled",
        F(agent_enabled=False),
        TerminationStep.NO_ACTION,
        Action.NO_ACTION_POSSIBLE,
        False,
        Answer(409, "no_action_possible"),
        R8_409,
    ),
    (
        "degraded",
        F(degraded_promotable=True, has_replica=True),
        TerminationStep.PROMOTE_DEGRADED,
        Action.REPLICA_PROMOTED,
        True,
        R9_200,
        R8_200,
    ),
    (
        "not-promotable-reused",
        F(has_replica=True),
        TerminationStep.SCHEDULE,
        Action.FAILOVER_SCHEDULED,
        False,
        R9_202,
        R8_200,
    ),
    (
        "not-promotable-created",
        F(has_replica=True, replica_created=True),
        TerminationStep.SCHEDULE,
        Action.FAILOVER_SCHEDULED,
        False,
        R9_202,
        R8_201,
    ),
    (
        "not-promotable-agent-disabled",
        F(has_replica=True, agent_enabled=False),
        TerminationStep.SCHEDULE,
        Action.FAILOVER_SCHEDULED,
        False,
        R9_202,
        R8_200,
    ),
]


@pytest.mark.parametrize("row", TERMINATION_TABLE, ids=[row[0] for row in TERMINATION_TABLE])
def test_domain_372_r8_r9_termination_decision_table(row: tuple[Any, ...]) -> None:
    _, facts, step, action, success, r9, r8 = row

    outcome = termination_outcome(facts)

    assert (outcome.step, outcome.action, outcome.success) == (step, action, success)
    assert route_answers(facts, outcome) == (r9, r8)


def test_domain_372_promotion_happens_in_this_call_only_for_steps_3_and_5() -> None:
    assert termination_outcome(F(ready_promotable=True, has_replica=True)).promotes_now
    assert termination_outcome(F(degraded_promotable=True, has_replica=True)).promotes_now
    assert not termination_outcome(F(already_failed_over=True)).promotes_now
    assert not termination_outcome(F(has_replica=True)).promotes_now


@pytest.mark.parametrize(
    "facts",
    [
        {"ready_promotable": True},
        {"replica_created": True},
        {"has_replica": True, "replica_created": True, "ready_promotable": True},
        {"has_replica": True, "replica_created": True, "already_failed_over": True},
    ],
)
def test_termination_facts_reject_impossible_combinations(facts: dict[str, bool]) -> None:
    with pytest.raises(ValueError, match="replica"):
        TerminationFacts(**facts)


def _valid_facts(flags: dict[str, bool]) -> TerminationFacts | None:
    try:
        return TerminationFacts(**flags)
    except ValueError:
        return None


@given(
    flags=st.fixed_dictionaries(
        {
            name: st.booleans()
            for name in (
                "already_failed_over",
                "ready_promotable",
                "degraded_promotable",
                "has_replica",
                "replica_created",
                "fallback_queued",
                "agent_enabled",
            )
        }
    )
)
def test_ep4_success_only_with_a_committed_promotion_and_r9_200_only_then(flags: dict[str, bool]) -> None:
    facts = _valid_facts(flags)
    if facts is None:
        return
    outcome = termination_outcome(facts)
    r9, r8 = route_answers(facts, outcome)

    assert outcome.success is (outcome.action is Action.REPLICA_PROMOTED)
    assert (r9.status == 200) is outcome.success
    assert r9.success is (None if r9.status == 409 else outcome.success)
    assert r8.status in (200, 201, 409)
    assert (r8.status == 201) is (facts.replica_created and not outcome.success)


@pytest.mark.parametrize(
    ("facts", "step"),
    [
        ({"ready_promotable": True}, CoordinatorStep.PROMOTE),
        ({"degraded_promotable": True}, CoordinatorStep.PROMOTE_DEGRADED),
        ({"has_replica": True}, CoordinatorStep.WAIT),
        ({}, CoordinatorStep.CREATE_REPLACEMENT),
        ({"replacement_allowed": False}, CoordinatorStep.QUEUE_FALLBACK),
        ({"pool_available": False}, CoordinatorStep.QUEUE_FALLBACK),
        ({"replacement_allowed": False, "fallback_queued": True}, CoordinatorStep.WAIT),
        ({"replacement_allowed": False, "agent_enabled": False}, CoordinatorStep.WAIT),
    ],
)
def test_domain_372_coordinator_rows_for_a_terminating_episode(facts: dict[str, bool], step: CoordinatorStep) -> None:
    args = {
        "ready_promotable": False,
        "degraded_promotable": False,
        "has_replica": False,
        "replacement_allowed": True,
        "pool_available": True,
        "fallback_queued": False,
        "agent_enabled": True,
    } | facts

    assert coordinator_step(**args) is step


def test_domain_v6_rebalance_expires_two_hours_after_the_last_rebalance() -> None:
    sut = make_episode(last_rebalance_at=T0 + timedelta(minutes=30))

    assert not rebalance_expired(sut, T0 + timedelta(hours=2, minutes=30) - timedelta(seconds=1))
    assert rebalance_expired(sut, T0 + timedelta(hours=2, minutes=30))


def test_domain_v8_v10_deadline_rules_apply_only_to_terminating_episodes() -> None:
    deadline = T0 + timedelta(minutes=2)
    sut = make_episode(state=EpisodeState.TERMINATING, deadline=deadline)

    assert not deadline_passed(sut, deadline + timedelta(seconds=59))
    assert deadline_passed(sut, deadline + timedelta(seconds=60))
    assert not episode_lost(sut, deadline + timedelta(minutes=15) - timedelta(seconds=1))
    assert episode_lost(sut, deadline + timedelta(minutes=15))
    at_risk = make_episode(deadline=deadline)
    assert not deadline_passed(at_risk, deadline + timedelta(hours=1))
    assert not episode_lost(at_risk, deadline + timedelta(hours=1))


def test_rp6_two_replacements_at_most_per_episode() -> None:
    sut = make_episode()
    secure_replica(sut, ReplicaId("r-1"), T0 + timedelta(milliseconds=250), replacement=False)
    secure_replica(sut, ReplicaId("r-2"), T0 + timedelta(minutes=5), replacement=True)
    secure_replica(sut, ReplicaId("r-3"), T0 + timedelta(minutes=9), replacement=True)

    assert (sut.replica_id, sut.replacements, sut.response_ms) == ("r-3", 2, 250)
    assert not replacement_allowed(sut)
    with pytest.raises(RuleConflictError):
        secure_replica(sut, ReplicaId("r-4"), T0 + timedelta(minutes=12), replacement=True)


@pytest.mark.parametrize(
    ("kind", "manual_mode", "other_standby", "fate"),
    [
        (ReplicaKind.AUTOMATIC_REBALANCE, False, False, ReplicaFate.RETIRE),
        (ReplicaKind.MANUAL, False, False, ReplicaFate.RETIRE),
        (ReplicaKind.MANUAL, True, False, ReplicaFate.KEEP),
        (ReplicaKind.AUTOMATIC_REBALANCE, True, False, ReplicaFate.BECOME_STANDBY),
        (ReplicaKind.AUTOMATIC_TERMINATION, True, True, ReplicaFate.RETIRE),
    ],
)
def test_domain_36_replica_of_a_closed_episode_is_retired_kept_or_becomes_the_standby(
    kind: ReplicaKind, manual_mode: bool, other_standby: bool, fate: ReplicaFate
) -> None:
    assert released_replica_fate(kind, manual_mode=manual_mode, other_standby=other_standby) is fate
