"""R7: the agent reports a replica's sync progress (domain §3.3 L6-L8 and the sync sub-state table)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.access import agent_replica, lock_agent
from spotopt.application.replicas.effects import ReplicaEffects
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.sync import apply_sync_report
from spotopt.domain.replicas.values import ReplicaStatus, SyncStatus
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportReplicaSyncCommand:
    client_id: ClientId
    agent_id: str
    replica_id: str
    sync_status: SyncStatus | None = None
    sync_latency_ms: int | None = None
    state_transfer_progress: Decimal | None = None
    status: ReplicaStatus | None = None


class ReportReplicaSync:
    """- L6-L8: ``last_sync_at`` = now; progress is non-decreasing within a sync pass (reset by ``out-of-sync`` →
      ``syncing``); progress >= 100 or ``synced`` makes a ``syncing`` replica ``ready`` (L7, with the promotion
      attempt of a ``terminating`` episode); ``out-of-sync`` makes a ready replica unpromotable (RP-4a).
    - Terminal replicas → 409 ``replica_terminal``; a refused sub-state change → ``invalid_transition``.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, effects: ReplicaEffects) -> None:
        self._uow = uow
        self._clock = clock
        self._effects = effects

    async def execute(self, command: ReportReplicaSyncCommand) -> Replica:
        agent = await lock_agent(self._uow, command.client_id, command.agent_id)
        replica = await agent_replica(self._uow, agent, command.replica_id)
        now = self._clock.now()
        transition = apply_sync_report(
            replica,
            sync_status=command.sync_status,
            progress=command.state_transfer_progress,
            latency_ms=command.sync_latency_ms,
            status=command.status,
            now=now,
        )
        transition.raise_for_conflict()
        events = await self._effects.apply(agent, replica, transition, now)
        await record_events(self._uow, events, now)
        await self._uow.commit()
        return replica
