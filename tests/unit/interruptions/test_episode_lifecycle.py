"""Interruption episode state machine (domain §3.5 V1-V14, EP-1, EP-6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.domain.interruptions.episode import InterruptionEpisode, notice_deadline
from spotopt.domain.interruptions.lifecycle import EpisodeEvent, EpisodeTransition, episode_on, open_episode
from spotopt.domain.interruptions.values import OPEN_EPISODE, EpisodeState
from spotopt.domain.replicas.lifecycle import Outcome
from spotopt.domain.replicas.values import ReplicaKind
from spotopt.domain.shared.ids import AgentId, ClientId, EpisodeId, InstanceId, ReplicaId
from tests.unit.interruptions.test_emergency import T0, make_episode

E = EpisodeEvent
NEW_IID = InstanceId("i-07c1d2e3f4a5b6c7d")


def make_terminating(**overrides: Any) -> InterruptionEpisode:
    fields: dict[str, Any] = {
        "state": EpisodeState.TERMINATING,
        "notice_at": T0,
        "deadline": T0 + timedelta(minutes=2),
        "deadline_estimated": False,
    }
    fields.update(overrides)
    return make_episode(**fields)


def opened(transition: EpisodeTransition, now: datetime = T0) -> InterruptionEpisode:
    return open_episode(
        transition,
        episode_id=EpisodeId("e-2"),
        client_id=ClientId("c-1"),
        agent_id=AgentId("a-1"),
        instance_id=InstanceId("i-0a1b2c3d4e5f67890"),
        pool_id="t3.medium.us-east-1a",
        now=now,
    )


def test_domain_v1_rebalance_without_episode_opens_at_risk_and_ensures_a_replica() -> None:
    transition = episode_on(None, E.REBALANCE, T0)

    assert (transition.rule, transition.state, transition.opens_episode) == ("V1", EpisodeState.AT_RISK, True)
    assert transition.ensure_replica
    assert transition.replica_kind is ReplicaKind.AUTOMATIC_REBALANCE
    assert transition.cancel_pending_commands
    assert not transition.count_interruption
    assert transition.event == "rebalance_received"
    episode = opened(transition)
    assert (episode.state, episode.first_rebalance_at, episode.last_rebalance_at) == (EpisodeState.AT_RISK, T0, T0)


def test_domain_v2_rebalance_again_refreshes_only_the_last_rebalance_time() -> None:
    sut = make_episode()
    later = T0 + timedelta(minutes=40)

    transition = episode_on(sut, E.REBALANCE, later)

    assert (transition.rule, transition.outcome, transition.ensure_replica) == ("V2", Outcome.APPLIED, True)
    assert not transition.cancel_pending_commands
    assert (sut.first_rebalance_at, sut.last_rebalance_at, sut.state) == (T0, later, EpisodeState.AT_RISK)


def test_domain_v3_notice_without_episode_opens_terminating_with_the_reported_deadline() -> None:
    reported = T0 + timedelta(minutes=2)

    transition = episode_on(None, E.NOTICE, T0, termination_time=reported)

    assert (transition.rule, transition.state) == ("V3", EpisodeState.TERMINATING)
    assert (transition.deadline, transition.deadline_estimated) == (reported, False)
    assert transition.replica_kind is ReplicaKind.AUTOMATIC_TERMINATION
    assert transition.attempt_failover
    assert transition.cancel_pending_commands
    assert transition.count_interruption
    assert transition.event == "termination_notice"
    episode = opened(transition)
    assert (episode.notice_at, episode.deadline, episode.first_rebalance_at) == (T0, reported, None)


def test_domain_v3_notice_escalates_an_at_risk_episode_with_an_estimated_deadline() -> None:
    sut = make_episode()
    now = T0 + timedelta(minutes=10)

    transition = episode_on(sut, E.NOTICE, now)

    assert (transition.rule, transition.previous, transition.opens_episode) == ("V3", EpisodeState.AT_RISK, False)
    assert transition.count_interruption
    assert (sut.state, sut.notice_at) == (EpisodeState.TERMINATING, now)
    assert (sut.deadline, sut.deadline_estimated) == (now + timedelta(seconds=120), True)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(seconds=-120), True),
        (timedelta(seconds=-121), False),
        (timedelta(minutes=10), True),
        (timedelta(minutes=10, seconds=1), False),
        (None, False),
    ],
)
def test_ep6_reported_termination_time_is_accepted_only_inside_the_window(
    offset: timedelta | None, accepted: bool
) -> None:
    claimed = T0 + offset if offset is not None else None

    deadline, estimated = notice_deadline(claimed, T0)

    assert (deadline, estimated) == ((claimed, False) if accepted else (T0 + timedelta(seconds=120), True))
    transition = episode_on(None, E.NOTICE, T0, termination_time=claimed)
    assert (transition.deadline, transition.deadline_estimated) == (deadline, estimated)


def test_domain_v4_repeated_notice_keeps_the_deadline_but_still_runs_the_failover_steps() -> None:
    sut = make_terminating()

    transition = episode_on(sut, E.NOTICE, T0 + timedelta(seconds=5), termination_time=T0 + timedelta(minutes=3))

    assert (transition.rule, transition.outcome) == ("V4", Outcome.NOOP)
    assert transition.attempt_failover
    assert transition.ensure_replica
    assert not transition.count_interruption
    assert sut.deadline == T0 + timedelta(minutes=2)


def test_domain_v4_valid_reported_deadline_replaces_an_estimated_one() -> None:
    sut = make_terminating(deadline_estimated=True)
    reported = T0 + timedelta(minutes=1)

    transition = episode_on(sut, E.NOTICE, T0 + timedelta(seconds=5), termination_time=reported)

    assert transition.outcome is Outcome.APPLIED
    assert (sut.deadline, sut.deadline_estimated) == (reported, False)


def test_domain_v5_rebalance_during_terminating_only_stores_the_signal() -> None:
    sut = make_terminating()

    transition = episode_on(sut, E.REBALANCE, T0 + timedelta(seconds=5))

    assert (transition.rule, transition.outcome, transition.ensure_replica) == ("V5", Outcome.NOOP, False)
    assert sut.state is EpisodeState.TERMINATING


def test_domain_v6_tick_clears_an_at_risk_episode_after_two_quiet_hours() -> None:
    sut = make_episode()

    early = episode_on(sut, E.TICK, T0 + timedelta(hours=2) - timedelta(seconds=1))
    cleared = episode_on(sut, E.TICK, T0 + timedelta(hours=2))

    assert early.outcome is Outcome.NOOP
    assert (cleared.rule, cleared.state, cleared.release_replica, cleared.event) == (
        "V6",
        EpisodeState.CLEARED,
        True,
        "episode_cleared",
    )
    assert sut.closed_at == T0 + timedelta(hours=2)


@pytest.mark.parametrize("event", [E.SWITCHED, E.PROMOTED])
def test_domain_v7_primary_change_supersedes_an_at_risk_episode(event: EpisodeEvent) -> None:
    sut = make_episode()

    transition = episode_on(sut, event, T0 + timedelta(minutes=3))

    assert (transition.rule, transition.state, transition.release_replica) == ("V7", EpisodeState.SUPERSEDED, True)


def test_domain_v8_old_primary_declared_terminated_60_seconds_after_the_deadline_once() -> None:
    sut = make_terminating()
    deadline = T0 + timedelta(minutes=2)

    early = episode_on(sut, E.TICK, deadline + timedelta(seconds=59))
    v8 = episode_on(sut, E.TICK, deadline + timedelta(seconds=60))
    again = episode_on(sut, E.TICK, deadline + timedelta(seconds=70))

    assert early.outcome is Outcome.NOOP
    assert (v8.rule, v8.outcome, v8.terminate_old_primary, v8.state) == (
        "V8",
        Outcome.APPLIED,
        True,
        EpisodeState.TERMINATING,
    )
    assert (sut.old_primary_terminated, sut.late) == (True, True)
    assert (again.outcome, again.terminate_old_primary) == (Outcome.NOOP, False)


def test_domain_v9_committed_promotion_fails_the_episode_over_with_its_timing() -> None:
    sut = make_terminating()
    now = T0 + timedelta(seconds=1, milliseconds=500)

    transition = episode_on(
        sut, E.PROMOTED, now, new_instance_id=NEW_IID, promoted_replica_id=ReplicaId("r-1"), degraded=True
    )

    assert (transition.rule, transition.state, transition.event) == (
        "V9",
        EpisodeState.FAILED_OVER,
        "failover_completed",
    )
    assert (sut.failover_ms, sut.degraded, sut.late, sut.new_instance_id) == (1500, True, False, NEW_IID)
    assert (sut.promoted_replica_id, sut.closed_at) == ("r-1", now)


def test_domain_v9_promotion_after_the_deadline_is_late() -> None:
    sut = make_terminating()

    episode_on(sut, E.PROMOTED, T0 + timedelta(minutes=2, seconds=1), new_instance_id=NEW_IID)

    assert sut.late


def test_domain_v9_fallback_instance_becoming_primary_fails_over() -> None:
    sut = make_terminating()

    transition = episode_on(sut, E.SWITCHED, T0 + timedelta(minutes=1), by_fallback=True, new_instance_id=NEW_IID)

    assert (transition.rule, transition.state, transition.release_replica) == ("V9", EpisodeState.FAILED_OVER, True)
    assert sut.promoted_replica_id is None


def test_domain_v9_other_switch_during_terminating_supersedes_the_episode() -> None:
    sut = make_terminating()

    transition = episode_on(sut, E.SWITCHED, T0 + timedelta(minutes=1))

    assert (transition.state, sut.close_reason) == (EpisodeState.SUPERSEDED, "primary_changed")


def test_domain_v10_lost_fifteen_minutes_after_the_deadline() -> None:
    sut = make_terminating(old_primary_terminated=True)

    transition = episode_on(sut, E.TICK, T0 + timedelta(minutes=17))

    assert (transition.rule, transition.state, transition.release_replica) == ("V10", EpisodeState.LOST, True)
    assert (transition.event, transition.terminate_old_primary) == ("failover_failed", False)


def test_domain_v10_carries_the_v8_instance_effects_when_v8_was_missed() -> None:
    sut = make_terminating()

    transition = episode_on(sut, E.TICK, T0 + timedelta(hours=1))

    assert (transition.rule, transition.terminate_old_primary) == ("V10", True)


@pytest.mark.parametrize("episode", [make_episode, make_terminating])
def test_domain_v11_adoption_of_another_instance_supersedes_the_episode(episode: Any) -> None:
    sut = episode()

    transition = episode_on(sut, E.ADOPTED, T0 + timedelta(minutes=1))

    assert (transition.rule, transition.state, transition.release_replica) == ("V11", EpisodeState.SUPERSEDED, True)


@pytest.mark.parametrize("episode", [make_episode, make_terminating])
def test_domain_v12_agent_deletion_supersedes_the_episode(episode: Any) -> None:
    sut = episode()

    transition = episode_on(sut, E.AGENT_DELETED, T0 + timedelta(minutes=1))

    assert (transition.rule, transition.state, transition.release_replica) == ("V12", EpisodeState.SUPERSEDED, False)


@pytest.mark.parametrize(
    ("event", "state"), [(E.REBALANCE, EpisodeState.AT_RISK), (E.NOTICE, EpisodeState.TERMINATING)]
)
def test_domain_v13_signal_after_a_closed_episode_opens_a_new_one(event: EpisodeEvent, state: EpisodeState) -> None:
    closed = make_episode(state=EpisodeState.CLEARED, closed_at=T0 + timedelta(hours=2))

    transition = episode_on(closed, event, T0 + timedelta(hours=3))

    assert (transition.rule, transition.previous, transition.state) == ("V13", EpisodeState.CLEARED, state)
    assert transition.opens_episode
    assert closed.state is EpisodeState.CLEARED


def test_domain_v14_primary_reported_terminated_escalates_with_deadline_now_and_nothing_else() -> None:
    sut = make_episode()
    now = T0 + timedelta(minutes=20)

    transition = episode_on(sut, E.PRIMARY_TERMINATED, now)

    assert (transition.rule, transition.state) == ("V14", EpisodeState.TERMINATING)
    assert not transition.ensure_replica
    assert not transition.attempt_failover
    assert not transition.count_interruption
    assert transition.event is None
    assert (sut.deadline, sut.deadline_estimated, sut.notice_at) == (now, False, None)


def test_pitfall20_v8_after_v14_skips_the_instance_effects() -> None:
    sut = make_episode()
    now = T0 + timedelta(minutes=20)
    episode_on(sut, E.PRIMARY_TERMINATED, now)

    v8 = episode_on(sut, E.TICK, now + timedelta(seconds=60))
    v10 = episode_on(sut, E.TICK, now + timedelta(minutes=15))

    assert (v8.rule, v8.outcome, v8.terminate_old_primary) == ("V8", Outcome.NOOP, False)
    assert (v10.rule, v10.terminate_old_primary) == ("V10", False)


def test_pitfall20_termination_report_during_terminating_also_spares_v8() -> None:
    sut = make_terminating()

    first = episode_on(sut, E.PRIMARY_TERMINATED, T0 + timedelta(seconds=90))
    repeat = episode_on(sut, E.PRIMARY_TERMINATED, T0 + timedelta(seconds=95))
    v8 = episode_on(sut, E.TICK, T0 + timedelta(minutes=3))

    assert (first.rule, first.outcome, first.state) == ("T-1", Outcome.APPLIED, EpisodeState.TERMINATING)
    assert repeat.outcome is Outcome.NOOP
    assert not v8.terminate_old_primary


@pytest.mark.parametrize("event", [E.TICK, E.SWITCHED, E.PROMOTED, E.ADOPTED, E.PRIMARY_TERMINATED, E.AGENT_DELETED])
def test_domain_35_without_an_open_episode_only_signals_do_anything(event: EpisodeEvent) -> None:
    closed = make_episode(state=EpisodeState.FAILED_OVER)

    assert episode_on(None, event, T0).outcome is Outcome.NOOP
    assert episode_on(closed, event, T0).outcome is Outcome.NOOP
    assert closed.state is EpisodeState.FAILED_OVER


def test_open_episode_refuses_a_transition_that_opens_nothing() -> None:
    with pytest.raises(ValueError, match="opens no episode"):
        opened(episode_on(make_episode(), E.REBALANCE, T0))


@given(events=st.lists(st.tuples(st.sampled_from(list(EpisodeEvent)), st.integers(0, 3600)), max_size=20))
@settings(max_examples=150)
def test_domain_35_closed_episodes_stay_closed_and_open_states_only_move_forward(
    events: list[tuple[EpisodeEvent, int]],
) -> None:
    sut = make_episode()
    now = T0
    for event, seconds in events:
        now += timedelta(seconds=seconds)
        was_open, before = sut.is_open, sut.state
        transition = episode_on(sut, event, now, termination_time=now + timedelta(minutes=2))
        if not was_open:
            assert sut.state is before
            assert transition.opens_episode == (event in (E.REBALANCE, E.NOTICE))
        elif before is EpisodeState.TERMINATING:
            assert sut.state is not EpisodeState.AT_RISK
        assert (sut.closed_at is None) == (sut.state in OPEN_EPISODE)
