"""The first steps of every interruption signal (domain §2.7): attribution (EP-7), the EP-4 replay check, and
the EP-7 effects of a signal that is not on the primary. Functions over the caller's unit of work (agent locked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from spotopt.application.ledger.ledger_book import LedgerBook
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.promotion import PromotionResult
from spotopt.application.replicas.supply import PoolHints
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import ExpectedCause, InstanceRole, KeptReason
from spotopt.domain.interruptions.emergency import Action
from spotopt.domain.interruptions.episode import InterruptionEpisode, InterruptionSignal, notice_deadline
from spotopt.domain.interruptions.values import AttributedRole, EpisodeState, SignalKind
from spotopt.domain.ledger.entry import CloseReason
from spotopt.domain.replicas import notices as replica_notices
from spotopt.domain.replicas.lifecycle import INTERRUPTED, fail
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import ClientId, CommandId, InstanceId, new_id

ROLE_OF_INSTANCE = {
    InstanceRole.PRIMARY: AttributedRole.PRIMARY,
    InstanceRole.STANDBY: AttributedRole.STANDBY,
    InstanceRole.KEPT_OLD: AttributedRole.KEPT_OLD,
    InstanceRole.TERMINATED: AttributedRole.KEPT_OLD,
}


async def attribute(
    uow: UnitOfWork, agent: Agent, kind: SignalKind, named: str | None, now: datetime
) -> InterruptionSignal:
    """EP-7 attribution: no instance → the primary; an instance unknown to the agent → ``unknown``."""
    role, pool_id = AttributedRole.UNKNOWN, None
    target = named or agent.primary_instance_id
    instance = await uow.instances.get(agent.client_id, target) if target else None
    if instance is not None and instance.agent_id == agent.agent_id:
        role, pool_id = ROLE_OF_INSTANCE[instance.role], instance.pool_id
    return InterruptionSignal(
        signal_id=new_id(),
        client_id=agent.client_id,
        agent_id=agent.agent_id,
        kind=kind,
        received_at=now,
        attributed_role=role,
        instance_id=InstanceId(named) if named else None,
        pool_id=pool_id,
    )


async def failed_over_episode(uow: UnitOfWork, agent: Agent, target: str | None) -> InterruptionEpisode | None:
    """EP-4 replay: the notice's instance was failed over already (by R8 carrying the same notice, or earlier)."""
    if target is None or target == agent.primary_instance_id:
        return None
    latest = await uow.episodes.latest_for_instance(agent.agent_id, target)
    return latest if latest is not None and latest.state is EpisodeState.FAILED_OVER else None


async def not_on_primary(
    uow: UnitOfWork, ledger: LedgerBook, agent: Agent, signal: InterruptionSignal, now: datetime
) -> list[DomainEvent]:
    """EP-7: a notice fails a standby's replica (I10) or dates a kept-old instance; rebalances are only stored."""
    if signal.kind is not SignalKind.TERMINATION or signal.instance_id is None:
        return []
    instance = await uow.instances.get(agent.client_id, signal.instance_id)
    if instance is None or instance.agent_id != agent.agent_id or instance.is_terminated:
        return []
    deadline, _ = notice_deadline(signal.termination_time, now)
    if instance.role is InstanceRole.KEPT_OLD:
        instance.kept_reason, instance.expected_cause = KeptReason.AWAITING_TERMINATION, ExpectedCause.INTERRUPTION
        instance.termination_expected_at = deadline
        return []
    replica = await uow.replicas.find_by_instance(agent.agent_id, instance.instance_id)
    if replica is None or not fail(replica, INTERRUPTED, now).applied:
        return []
    instance.keep_old(KeptReason.AWAITING_TERMINATION, now, expected_at=deadline, cause=ExpectedCause.INTERRUPTION)
    await ledger.role_changed(instance, now, now, CloseReason.ROLE_CHANGE)
    return [replica_notices.replica_failed(agent, replica, INTERRUPTED, now)]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalCommand:
    client_id: ClientId
    agent_id: str
    kind: SignalKind
    instance_id: str | None = None
    termination_time: datetime | None = None
    detected_at: datetime | None = None
    hints: PoolHints = field(default_factory=PoolHints)
    preferred_replica_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReceivedSignal:
    """A signal attributed under the agent's row lock, not stored yet."""

    agent: Agent
    signal: InterruptionSignal
    command: SignalCommand
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalOutcome:
    """What one signal did: the §3.5 action code, whether a replica was created in this call, the episode, its
    replica and any promotion. ``action`` is ``none`` exactly when the signal is not on the primary (EP-7). The HTTP
    edge derives each route's answer from it.
    """

    kind: SignalKind
    attributed_role: AttributedRole
    episode: InterruptionEpisode | None
    replica: Replica | None
    created: bool
    action: Action
    command_id: CommandId | None = None
    promotion: PromotionResult | None = None
    now: datetime

    @property
    def replayed(self) -> bool:
        return self.promotion is not None and self.promotion.replayed


def not_primary_outcome(signal: InterruptionSignal, now: datetime) -> SignalOutcome:
    return SignalOutcome(
        kind=signal.kind,
        attributed_role=signal.attributed_role,
        episode=None,
        replica=None,
        created=False,
        action=Action.NONE,
        now=now,
    )
