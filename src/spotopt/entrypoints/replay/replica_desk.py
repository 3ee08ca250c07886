"""The replayed agent's replicas: real domain ``Replica`` objects driven by the real lifecycle functions (§3.3),
each bound to the simulated instance the agent's launcher started for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from spotopt.domain.replicas.guards import PromotionKind, launch_request_expired, promotable, sync_expired
from spotopt.domain.replicas.lifecycle import INTERRUPTED, RetireReason, attach_instance, become_ready, fail, retire
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.ids import AgentId, ClientId, EpisodeId, ReplicaId
from spotopt.domain.shared.pools import PoolId
from spotopt.entrypoints.replay.cloud import Cloud, Instance
from spotopt.entrypoints.replay.fleet import PoolNames

NO_CAPACITY = "insufficient_capacity"


class ReplicaDesk:
    def __init__(self, names: PoolNames, client_id: ClientId, agent_id: AgentId) -> None:
        self.names = names
        self.client_id = client_id
        self.agent_id = agent_id
        self.replicas: dict[ReplicaId, Replica] = {}
        self.instances: dict[ReplicaId, Instance] = {}
        self.created = 0

    def active(self) -> Iterator[Replica]:
        return (r for r in self.replicas.values() if r.is_active)

    def get(self, replica_id: ReplicaId | None) -> Replica | None:
        return self.replicas.get(replica_id) if replica_id is not None else None

    def of_instance(self, instance: Instance) -> Replica | None:
        return next((self.replicas[rid] for rid, i in self.instances.items() if i is instance), None)

    def create(
        self, cloud: Cloud, pool_id: str, kind: ReplicaKind, now: datetime, *, by: str, episode: EpisodeId | None
    ) -> Replica:
        """L1 launch request, then the launcher's launch: L4 (``syncing``) or L9 when the zone has no capacity."""
        self.created += 1
        pool = PoolId.parse(pool_id)
        replica = Replica(
            replica_id=ReplicaId(f"replica-{self.created}"),
            client_id=self.client_id,
            agent_id=self.agent_id,
            kind=kind,
            status=ReplicaStatus.LAUNCHING,
            pool_id=pool_id,
            instance_type=pool.instance_type,
            region=pool.region,
            az=pool.az,
            created_by=by,
            created_at=now,
            episode_id=episode,
        )
        self.replicas[replica.replica_id] = replica
        instance = cloud.launch(self.names.zone_of(pool_id))
        if instance is None:
            fail(replica, NO_CAPACITY, now)
            return replica
        self.instances[replica.replica_id] = instance
        attach_instance(replica, instance.instance_id, now=now).raise_for_conflict()
        return replica

    def instance(self, replica: Replica) -> Instance | None:
        return self.instances.get(replica.replica_id)

    def ready(self, replica: Replica, now: datetime) -> bool:
        """L7 when the instance has finished its cold start; True when promotion should be attempted."""
        return become_ready(replica, now).attempt_promotion

    def promotion_kind(
        self, replica: Replica, *, deadline: datetime | None, now: datetime, terminating: bool
    ) -> PromotionKind | None:
        return promotable(
            replica,
            emergency=True,
            episode_terminating=terminating,
            deadline=deadline,
            now=now,
            any_ready_promotable=False,
        )

    def interrupted(self, cloud: Cloud, replica: Replica, now: datetime) -> None:
        """EP-7 / L10: a notice on a standby fails it; its instance is useless and is stopped."""
        if replica.is_active:
            fail(replica, INTERRUPTED, now)
        self._stop(cloud, replica)

    def retire(self, cloud: Cloud, replica: Replica, reason: RetireReason, now: datetime) -> None:
        if retire(replica, reason, now).applied:
            self._stop(cloud, replica)

    def expire(self, cloud: Cloud, now: datetime) -> list[Replica]:
        """L9/L10 time-outs (launch requests never launched, replicas syncing for 20 min)."""
        failed: list[Replica] = []
        for replica in list(self.active()):
            reason = launch_request_expired(replica, now) or ("sync_timeout" if sync_expired(replica, now) else None)
            if reason is not None:
                fail(replica, reason, now)
                self._stop(cloud, replica)
                failed.append(replica)
        return failed

    def _stop(self, cloud: Cloud, replica: Replica) -> None:
        instance = self.instances.get(replica.replica_id)
        if instance is not None and instance is not cloud.primary:
            cloud.terminate(instance)
