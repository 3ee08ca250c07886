"""R4: retire a replica on the client's request (L11)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.agents.placement import Placement
from spotopt.application.errors import ConflictError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.access import agent_replica, lock_agent
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.replicas.lifecycle import REPLICA_TERMINAL, RetireReason
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class RetireReplicaCommand:
    client_id: ClientId
    agent_id: str
    replica_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RetireReplicaResult:
    replica: Replica
    terminated_at: datetime | None
    instance_role: InstanceRole | None


class RetireReplica:
    """- L11: ``terminated`` at now; its instance (if any) → ``kept_old(termination_requested)`` with
      N-terminate-instance (I9); a claimed launch request emits ``replica_launch_may_be_running``.
    - ``promoted``/``failed`` → 409 ``replica_terminal``; already ``terminated`` → the recorded values (idempotent).
    - An episode's replica retired here counts as failed for RP-6: the coordinator replaces it while allowed
      (pitfalls decision 17); in manual-replica mode upkeep replaces the standby (U1).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, placement: Placement) -> None:
        self._uow = uow
        self._clock = clock
        self._placement = placement

    async def execute(self, command: RetireReplicaCommand) -> RetireReplicaResult:
        agent = await lock_agent(self._uow, command.client_id, command.agent_id)
        replica = await agent_replica(self._uow, agent, command.replica_id)
        if replica.status in (ReplicaStatus.PROMOTED, ReplicaStatus.FAILED):
            raise ConflictError("The replica is terminal", code=REPLICA_TERMINAL, status=replica.status.value)
        if replica.status is not ReplicaStatus.TERMINATED:
            now = self._clock.now()
            events = await self._placement.retire_replica(agent, replica, RetireReason.CLIENT_REQUEST, now)
            agent.touch(now)
            await record_events(self._uow, events, now)
            await self._uow.commit()
        instance = await self._uow.instances.get(agent.client_id, replica.instance_id) if replica.instance_id else None
        return RetireReplicaResult(
            replica=replica,
            terminated_at=replica.terminated_at,
            instance_role=instance.role if instance is not None else None,
        )
