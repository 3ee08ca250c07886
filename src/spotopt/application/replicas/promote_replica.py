"""R3: manual promotion of a ready replica (domain §3.7.3)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.errors import ConflictError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.access import agent_replica, lock_agent
from spotopt.application.replicas.promotion import Promotion, PromotionResult
from spotopt.domain.replicas.guards import PromotionKind, promotable
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.ids import ClientId

REPLICA_NOT_PROMOTABLE = "replica_not_promotable"


@dataclass(frozen=True, slots=True, kw_only=True)
class PromoteReplicaCommand:
    client_id: ClientId
    agent_id: str
    replica_id: str
    demote_old_primary: bool = True


class PromoteReplica:
    """- RP-4a only (manual requests): ``ready`` and not ``out-of-sync``, else 409 ``replica_not_promotable`` with
      ``status`` and ``sync_status``.
    - The promotion transaction of §3.7.3 (``Promotion``), agent locked first (CC-3), one commit; a repeat for the
      same replica returns the first result; another replica promoted moments ago → ``promotion_in_progress``.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, promotion: Promotion) -> None:
        self._uow = uow
        self._clock = clock
        self._promotion = promotion

    async def execute(self, command: PromoteReplicaCommand) -> PromotionResult:
        agent = await lock_agent(self._uow, command.client_id, command.agent_id)
        replica = await agent_replica(self._uow, agent, command.replica_id)
        now = self._clock.now()
        if replica.status is ReplicaStatus.PROMOTED:
            return await self._promotion.replay(agent, replica)
        kind = promotable(
            replica, emergency=False, episode_terminating=False, deadline=None, now=now, any_ready_promotable=False
        )
        if kind is not PromotionKind.READY:
            raise ConflictError(
                "The replica is not promotable",
                code=REPLICA_NOT_PROMOTABLE,
                status=replica.status.value,
                sync_status=replica.sync_status.value,
            )
        result = await self._promotion.promote(
            agent, replica, now, kind=PromotionKind.READY, demote_old_primary=command.demote_old_primary
        )
        await record_events(self._uow, result.events, now)
        await self._uow.commit()
        return result
