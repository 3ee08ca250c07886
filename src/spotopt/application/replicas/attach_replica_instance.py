"""R5: the launcher attaches the EC2 instance it launched for a launch request (L4, L5)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.errors import ConflictError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.access import agent_replica, lock_agent
from spotopt.application.replicas.effects import ReplicaEffects
from spotopt.application.replicas.supply import ReplicaSupply
from spotopt.domain.replicas.lifecycle import INSTANCE_ID_CONFLICT, attach_instance
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachReplicaInstanceCommand:
    client_id: ClientId
    agent_id: str
    replica_id: str
    instance_id: str
    status: ReplicaStatus = ReplicaStatus.SYNCING


class AttachReplicaInstance:
    """- L4 (``syncing``) / L5 (``ready``, with L7): instance ``standby`` (I2) with its ledger entry, ``launched_at``,
      ``sync_started_at``; a sighting of the id is attached. This takes the request out of ``launching`` for good.
    - The same id again, or a status already reached, is a no-op (L16, W31); ``terminated``/``failed`` → 409
      ``replica_terminal``; another id (RP-3) or an id of another instance of the client → ``instance_id_conflict``.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, supply: ReplicaSupply, effects: ReplicaEffects) -> None:
        self._uow = uow
        self._clock = clock
        self._supply = supply
        self._effects = effects

    async def execute(self, command: AttachReplicaInstanceCommand) -> Replica:
        agent = await lock_agent(self._uow, command.client_id, command.agent_id)
        replica = await agent_replica(self._uow, agent, command.replica_id)
        now = self._clock.now()
        transition = attach_instance(replica, command.instance_id, command.status, now=now)
        transition.raise_for_conflict()
        if not transition.applied:
            return replica
        if transition.instance_to_standby and not await self._id_is_free(replica, command.instance_id):
            raise ConflictError(
                "The instance id belongs to another instance of the client",
                code=INSTANCE_ID_CONFLICT,
                instance_id=command.instance_id,
            )
        events = await self._effects.apply(agent, replica, transition, now)
        await record_events(self._uow, events, now)
        await self._uow.commit()
        return replica

    async def _id_is_free(self, replica: Replica, instance_id: str) -> bool:
        other = await self._uow.replicas.find_by_instance(replica.agent_id, instance_id)
        if other is not None and other != replica:
            return False
        return await self._uow.instances.get(replica.client_id, instance_id) is None
