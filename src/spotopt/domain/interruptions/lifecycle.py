"""Interruption episode state machine (domain §3.5 V1-V14): a (state, event) table returning state and effects.

``episode_on`` mutates an open episode only when it returns ``applied``. With no open episode a signal
returns ``opens_episode`` and the use case builds the episode with ``open_episode``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from spotopt.domain.interruptions.emergency import deadline_passed, elapsed_ms, episode_lost, rebalance_expired
from spotopt.domain.interruptions.episode import InterruptionEpisode, notice_deadline
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.lifecycle import Outcome
from spotopt.domain.replicas.values import ReplicaKind
from spotopt.domain.shared.ids import AgentId, ClientId, EpisodeId, InstanceId, ReplicaId


class EpisodeEvent(StrEnum):
    REBALANCE = "rebalance"
    NOTICE = "notice"
    TICK = "tick"  # replica coordinator
    SWITCHED = "switched"  # S-4 / R-5: the primary changed through a switch (``by_fallback`` for the fallback)
    PROMOTED = "promoted"  # §3.7.3 committed
    ADOPTED = "adopted"  # another instance adopted as primary
    PRIMARY_TERMINATED = "primary_terminated"  # T-1
    AGENT_DELETED = "agent_deleted"  # A9


@dataclass(frozen=True, slots=True)
class EpisodeTransition:
    outcome: Outcome
    rule: str
    previous: EpisodeState | None
    state: EpisodeState | None
    opens_episode: bool = False
    deadline: datetime | None = None  # for a new ``terminating`` episode (EP-6)
    deadline_estimated: bool = False
    ensure_replica: bool = False  # §3.7.1 (idempotent, RP-6)
    replica_kind: ReplicaKind | None = None  # kind of a replica created now (``manual`` in manual-replica mode)
    attempt_failover: bool = False  # §3.7.2 steps 3-6
    cancel_pending_commands: bool = False  # origin != emergency → cancelled(emergency_in_progress)
    count_interruption: bool = False  # interruption_count += 1
    release_replica: bool = False  # the episode's non-terminal replica: fate per §3.6 (``released_replica_fate``)
    terminate_old_primary: bool = False  # V8 instance effects (I8, primary_instance_id=null, offline, ledger)
    event: str | None = None


@dataclass(frozen=True, slots=True)
class _Input:
    episode: InterruptionEpisode | None
    now: datetime
    termination_time: datetime | None
    by_fallback: bool
    new_instance_id: InstanceId | None
    promoted_replica_id: ReplicaId | None
    degraded: bool


def _phase(episode: InterruptionEpisode | None) -> EpisodeState | None:
    return episode.state if episode is not None and episode.is_open else None


def _state(inp: _Input) -> EpisodeState | None:
    return inp.episode.state if inp.episode is not None else None


def _open_episode(inp: _Input) -> InterruptionEpisode:
    if inp.episode is None or not inp.episode.is_open:
        raise ValueError("this transition needs an open episode")
    return inp.episode


def _noop(rule: str) -> Callable[[_Input], EpisodeTransition]:
    def handler(inp: _Input) -> EpisodeTransition:
        return EpisodeTransition(Outcome.NOOP, rule, _state(inp), _state(inp))

    return handler


def _rebalance_opens(inp: _Input) -> EpisodeTransition:
    """V1 (V13 after a closed episode): open ``at_risk``."""
    return EpisodeTransition(
        Outcome.APPLIED,
        "V13" if inp.episode is not None else "V1",
        _state(inp),
        EpisodeState.AT_RISK,
        opens_episode=True,
        ensure_replica=True,
        replica_kind=ReplicaKind.AUTOMATIC_REBALANCE,
        cancel_pending_commands=True,
        event="rebalance_received",
    )


def _notice(inp: _Input, rule: str, previous: EpisodeState | None) -> EpisodeTransition:
    """V3 effects; the deadline follows EP-6."""
    deadline, estimated = notice_deadline(inp.termination_time, inp.now)
    return EpisodeTransition(
        Outcome.APPLIED,
        rule,
        previous,
        EpisodeState.TERMINATING,
        opens_episode=inp.episode is None or not inp.episode.is_open,
        deadline=deadline,
        deadline_estimated=estimated,
        ensure_replica=True,
        replica_kind=ReplicaKind.AUTOMATIC_TERMINATION,
        attempt_failover=True,
        cancel_pending_commands=True,
        count_interruption=True,
        event="termination_notice",
    )


def _notice_opens(inp: _Input) -> EpisodeTransition:
    """V3 from no episode (V13 after a closed one)."""
    return _notice(inp, "V13" if inp.episode is not None else "V3", _state(inp))


def _rebalance_again(inp: _Input) -> EpisodeTransition:
    """V2: refresh ``last_rebalance_at``; ensuring the replica again is idempotent."""
    episode = _open_episode(inp)
    episode.last_rebalance_at = inp.now
    return EpisodeTransition(
        Outcome.APPLIED,
        "V2",
        episode.state,
        episode.state,
        ensure_replica=True,
        replica_kind=ReplicaKind.AUTOMATIC_REBALANCE,
    )


def _escalate(inp: _Input) -> EpisodeTransition:
    """V3 from ``at_risk``."""
    episode = _open_episode(inp)
    transition = _notice(inp, "V3", episode.state)
    episode.state = EpisodeState.TERMINATING
    episode.notice_at = episode.notice_at or inp.now
    episode.deadline, episode.deadline_estimated = transition.deadline, transition.deadline_estimated
    return transition


def _notice_again(inp: _Input) -> EpisodeTransition:
    """V4: only a valid reported deadline replaces an estimated one; steps 2-6 of §3.7.2 still run (idempotent)."""
    episode = _open_episode(inp)
    deadline, estimated = notice_deadline(inp.termination_time, inp.now)
    replaced = episode.deadline_estimated and not estimated
    if replaced:
        episode.deadline, episode.deadline_estimated = deadline, False
    return EpisodeTransition(
        Outcome.APPLIED if replaced else Outcome.NOOP,
        "V4",
        episode.state,
        episode.state,
        ensure_replica=True,
        attempt_failover=True,
    )


def _close(inp: _Input, rule: str, state: EpisodeState, reason: str, *, release: bool = True) -> EpisodeTransition:
    episode = _open_episode(inp)
    previous = episode.state
    episode.close(state, inp.now, reason)
    event = {"V6": "episode_cleared", "V10": "failover_failed"}.get(rule)
    return EpisodeTransition(Outcome.APPLIED, rule, previous, state, release_replica=release, event=event)


def _superseded(rule: str, reason: str, *, release: bool = True) -> Callable[[_Input], EpisodeTransition]:
    """V7 / V11 / V12."""
    return lambda inp: _close(inp, rule, EpisodeState.SUPERSEDED, reason, release=release)


def _failed_over(inp: _Input) -> EpisodeTransition:
    """V9: promotion committed (§3.7.3) or the fallback's new instance became primary."""
    episode = _open_episode(inp)
    previous = episode.state
    episode.promoted_replica_id = inp.promoted_replica_id
    episode.new_instance_id = inp.new_instance_id
    episode.degraded = inp.degraded
    episode.late = episode.late or (episode.deadline is not None and inp.now > episode.deadline)
    episode.failover_ms = elapsed_ms(episode.notice_at, inp.now) if episode.notice_at is not None else None
    episode.close(EpisodeState.FAILED_OVER, inp.now, "failed_over")
    return EpisodeTransition(
        Outcome.APPLIED, "V9", previous, episode.state, release_replica=inp.by_fallback, event="failover_completed"
    )


def _switched_terminating(inp: _Input) -> EpisodeTransition:
    """V9 for the fallback's switch; any other switch moved the workload away, so the episode is superseded."""
    if inp.by_fallback:
        return _failed_over(inp)
    return _close(inp, "V7", EpisodeState.SUPERSEDED, "primary_changed")


def _tick_at_risk(inp: _Input) -> EpisodeTransition:
    """V6."""
    if rebalance_expired(_open_episode(inp), inp.now):
        return _close(inp, "V6", EpisodeState.CLEARED, "rebalance_expired")
    return _noop("V6")(inp)


def _tick_terminating(inp: _Input) -> EpisodeTransition:
    """V8 once, then V10; V10 carries V8's instance effects when a tick was missed."""
    episode = _open_episode(inp)
    pending = not episode.old_primary_terminated
    if episode_lost(episode, inp.now):
        episode.old_primary_terminated, episode.late = True, True
        closed = _close(inp, "V10", EpisodeState.LOST, "failover_failed")
        return replace(closed, terminate_old_primary=pending)
    if not deadline_passed(episode, inp.now) or not pending:
        # Pitfall 20: after V14/T-1 the old primary is already terminated(reported); V8 has nothing to do.
        return _noop("V8")(inp)
    episode.old_primary_terminated, episode.late = True, True
    return EpisodeTransition(Outcome.APPLIED, "V8", episode.state, episode.state, terminate_old_primary=True)


def _primary_terminated_at_risk(inp: _Input) -> EpisodeTransition:
    """V14: T-1 on an ``at_risk`` primary; deadline now, no other V3 effect (nobody runs to execute a fallback)."""
    episode = _open_episode(inp)
    previous = episode.state
    episode.state = EpisodeState.TERMINATING
    episode.deadline, episode.deadline_estimated = inp.now, False
    episode.old_primary_terminated = True
    return EpisodeTransition(Outcome.APPLIED, "V14", previous, episode.state)


def _primary_terminated_terminating(inp: _Input) -> EpisodeTransition:
    """T-1 during ``terminating``: no state change, but V8 must later skip the instance effects."""
    episode = _open_episode(inp)
    if episode.old_primary_terminated:
        return _noop("T-1")(inp)
    episode.old_primary_terminated = True
    return EpisodeTransition(Outcome.APPLIED, "T-1", episode.state, episode.state)


_E = EpisodeEvent
_AT_RISK, _TERMINATING = EpisodeState.AT_RISK, EpisodeState.TERMINATING
_TABLE: dict[tuple[EpisodeState | None, EpisodeEvent], Callable[[_Input], EpisodeTransition]] = {
    (None, _E.REBALANCE): _rebalance_opens,
    (None, _E.NOTICE): _notice_opens,
    (_AT_RISK, _E.REBALANCE): _rebalance_again,
    (_AT_RISK, _E.NOTICE): _escalate,
    (_AT_RISK, _E.TICK): _tick_at_risk,
    (_AT_RISK, _E.SWITCHED): _superseded("V7", "primary_changed"),
    (_AT_RISK, _E.PROMOTED): _superseded("V7", "primary_changed"),
    (_AT_RISK, _E.ADOPTED): _superseded("V11", "adopted"),
    (_AT_RISK, _E.PRIMARY_TERMINATED): _primary_terminated_at_risk,
    (_AT_RISK, _E.AGENT_DELETED): _superseded("V12", "agent_deleted", release=False),
    (_TERMINATING, _E.REBALANCE): _noop("V5"),
    (_TERMINATING, _E.NOTICE): _notice_again,
    (_TERMINATING, _E.TICK): _tick_terminating,
    (_TERMINATING, _E.SWITCHED): _switched_terminating,
    (_TERMINATING, _E.PROMOTED): _failed_over,
    (_TERMINATING, _E.ADOPTED): _superseded("V11", "adopted"),
    (_TERMINATING, _E.PRIMARY_TERMINATED): _primary_terminated_terminating,
    (_TERMINATING, _E.AGENT_DELETED): _superseded("V12", "agent_deleted", release=False),
}


def episode_on(
    episode: InterruptionEpisode | None,
    event: EpisodeEvent,
    now: datetime,
    *,
    termination_time: datetime | None = None,
    by_fallback: bool = False,
    new_instance_id: InstanceId | None = None,
    promoted_replica_id: ReplicaId | None = None,
    degraded: bool = False,
) -> EpisodeTransition:
    """§3.5 V1-V14: the episode's answer to one event; without an open episode only a signal does anything."""
    inp = _Input(episode, now, termination_time, by_fallback, new_instance_id, promoted_replica_id, degraded)
    handler = _TABLE.get((_phase(episode), event), _noop("-"))
    return handler(inp)


def open_episode(
    transition: EpisodeTransition,
    *,
    episode_id: EpisodeId,
    client_id: ClientId,
    agent_id: AgentId,
    instance_id: InstanceId,
    pool_id: str | None,
    now: datetime,
) -> InterruptionEpisode:
    """Build the episode a V1/V3/V13 transition opens (EP-1: the caller checked there is no open one)."""
    if not transition.opens_episode or transition.state is None:
        raise ValueError("the transition opens no episode")
    episode = InterruptionEpisode(episode_id, client_id, agent_id, instance_id, transition.state, now, pool_id=pool_id)
    if transition.state is EpisodeState.AT_RISK:
        episode.first_rebalance_at = episode.last_rebalance_at = now
    else:
        episode.notice_at, episode.deadline = now, transition.deadline
        episode.deadline_estimated = transition.deadline_estimated
    return episode
