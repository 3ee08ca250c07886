"""A4: hand out the head of the agent's command queue under a lease (§3.4, CM-3, CM-4)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.agents.timings import AgentTimings
from spotopt.application.errors import NotFoundError
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.queue import next_deliverable
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class PollCommandsCommand:
    client_id: ClientId
    agent_id: str
    source_address: str | None = None


class PollCommands:
    """- One command per poll (``next_deliverable``: order, lease, pinning, 3 deliveries, K3 cancellations).
    - Locks the agent row so two concurrent polls cannot both receive the head (CC-3, W07).
    - CM-11: a poll from the address of a non-primary instance gets no switch (best effort).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, timings: AgentTimings) -> None:
        self._uow = uow
        self._clock = clock
        self._timings = timings

    async def execute(self, command: PollCommandsCommand) -> AgentCommand | None:
        agent = await self._uow.agents.get_for_update(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        now = self._clock.now()
        commands = await self._uow.commands.list_for_agent(agent.agent_id)
        if not commands:
            return None
        delivery = next_deliverable(
            commands,
            now=now,
            enabled=agent.enabled,
            primary_instance_id=agent.primary_instance_id,
            current_mode=agent.mode,
            current_pool_id=agent.pool_id,
            poll_from_non_primary=await self._from_non_primary(agent.agent_id, command.source_address),
            base_lease_seconds=self._timings.base_lease_seconds,
        )
        if delivery.changed:
            await self._uow.commit()
        return delivery.command

    async def _from_non_primary(self, agent_id: str, address: str | None) -> bool:
        if not address:
            return False
        instances = await self._uow.instances.list_for_agent(agent_id)  # type: ignore[arg-type]
        primary_addresses = {
            a for i in instances if i.role is InstanceRole.PRIMARY for a in (i.private_ip, i.public_ip) if a
        }
        if address in primary_addresses:
            return False
        return any(
            address in (i.private_ip, i.public_ip)
            for i in instances
            if i.role in (InstanceRole.STANDBY, InstanceRole.KEPT_OLD)
        )
