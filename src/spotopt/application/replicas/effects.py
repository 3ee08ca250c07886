"""The effects outside the replica of one replica transition (domain §3.3 → §3.2, §3.7, §8.2).

The domain's ``Transition`` names them (I2 standby, I9/I10 kept-old, I11 confirmed termination, L7 promotion
attempt, events); this service applies them inside the caller's transaction, agent locked (CC-3).
"""

from __future__ import annotations

from datetime import datetime

from spotopt.application.agents.placement import Placement
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.failover import Failover
from spotopt.application.replicas.supply import ReplicaSupply
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import KeptReason, TerminationReason
from spotopt.domain.ledger.entry import CloseReason
from spotopt.domain.replicas import notices as replica_notices
from spotopt.domain.replicas.lifecycle import EVENT_FAILED, EVENT_READY, Transition
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.shared.events import DomainEvent, Severity


class ReplicaEffects:
    def __init__(self, uow: UnitOfWork, placement: Placement, supply: ReplicaSupply, failover: Failover) -> None:
        self._uow = uow
        self._placement = placement
        self._supply = supply
        self._failover = failover

    async def apply(self, agent: Agent, replica: Replica, transition: Transition, now: datetime) -> list[DomainEvent]:
        """Applied transitions only; the caller raised for conflicts and skips no-ops."""
        if not transition.applied:
            return []
        if transition.instance_to_standby and replica.instance_id is not None:
            await self._supply.host(agent, replica, replica.instance_id, now)  # I2
        events = await self._instance_effects(agent, replica, transition, now)
        events += self._events(agent, replica, transition, now)
        if transition.attempt_promotion:  # L7
            promotion = await self._failover.after_ready(agent, now)
            if promotion is not None:
                events += promotion.events
        agent.touch(now)
        return events

    async def _instance_effects(
        self, agent: Agent, replica: Replica, transition: Transition, now: datetime
    ) -> list[DomainEvent]:
        instance = await self._uow.instances.get(agent.client_id, replica.instance_id) if replica.instance_id else None
        if instance is None or instance.agent_id != agent.agent_id or instance.is_terminated:
            return []
        if transition.instance_terminated:  # L12/L13 → I11, confirmed
            await self._placement.terminate(instance, TerminationReason.RETIRED, now, now, confirmed=True)
            return []
        reason = transition.instance_kept_reason
        if reason is None:
            return []
        instance.keep_old(reason, now)  # I9 (termination requested) / I10 (awaiting termination)
        await self._placement.ledger.role_changed(instance, now, now, CloseReason.ROLE_CHANGE)
        if reason is not KeptReason.TERMINATION_REQUESTED:
            return []
        price, _ = await self._placement.ledger.quote(instance, now)
        where = notices.placement(instance.mode, instance.instance_type, instance.az, instance.pool_id)
        why = replica.failure_reason or "replica failed"
        return [notices.terminate_instance_requested(agent, instance.instance_id, where, why, price.price, now)]

    def _events(self, agent: Agent, replica: Replica, transition: Transition, now: datetime) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        for name in transition.events:
            if name == EVENT_READY:
                events.append(replica_notices.replica_ready(agent, replica, now))
            elif name == EVENT_FAILED:
                events.append(replica_notices.replica_failed(agent, replica, replica.failure_reason or "failed", now))
            else:
                events.append(notices.plain(agent, name, Severity.WARNING, f"Replica {replica.replica_id}: {name}"))
        return events
