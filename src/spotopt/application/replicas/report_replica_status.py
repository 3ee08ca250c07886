"""R6: the agent reports a replica's lifecycle status (domain §3.3)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.access import agent_replica, lock_agent
from spotopt.application.replicas.effects import ReplicaEffects
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.status_reports import apply_status_report
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportReplicaStatusCommand:
    client_id: ClientId
    agent_id: str
    replica_id: str
    status: ReplicaStatus
    error_message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportReplicaStatusResult:
    replica: Replica
    previous_status: ReplicaStatus


class ReportReplicaStatus:
    """- The §3.3 table (``apply_status_report``): ``syncing``/``ready`` need an instance id (L4, L7); ``ready`` from
      ``syncing`` is L7 and, while an episode of the agent is ``terminating``, promotes in the same transaction;
      ``failed`` is L9/L10 (instance → kept-old, ``replica_failed``); ``terminated`` is L12/L13 (instance
      terminated, confirmed). A status already reached is a no-op (L16, W27); ``promoted``/``failed`` accept only an
      identical repeat (L15); anything else is 409 ``invalid_transition``.
    - Lifecycle times are server times; the agent's ``sync_*_at`` claims are not used.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, effects: ReplicaEffects) -> None:
        self._uow = uow
        self._clock = clock
        self._effects = effects

    async def execute(self, command: ReportReplicaStatusCommand) -> ReportReplicaStatusResult:
        agent = await lock_agent(self._uow, command.client_id, command.agent_id)
        replica = await agent_replica(self._uow, agent, command.replica_id)
        now = self._clock.now()
        transition = apply_status_report(replica, command.status, error_message=command.error_message, now=now)
        transition.raise_for_conflict()
        if transition.applied:
            events = await self._effects.apply(agent, replica, transition, now)
            await record_events(self._uow, events, now)
            await self._uow.commit()
        return ReportReplicaStatusResult(replica=replica, previous_status=transition.previous_status)
