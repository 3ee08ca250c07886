"""C8: delete an agent (domain §3.1 A9, AG-2; terminal)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.agents.deletion import AgentDeletion
from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteAgentCommand:
    client_id: ClientId
    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteAgentResult:
    agent_id: str
    instances_possibly_running: tuple[str, ...]


class DeleteAgent:
    """- Locks the agent row (CC-3); unknown, foreign or already deleted → not found (a repeat is a 404, AG-2).
    - A9 in one transaction: commands cancelled, open episodes superseded, replicas terminated, instances
      terminated unconfirmed with their ledger entries closed; event ``agent_deleted`` and N-agent-deleted.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, deletion: AgentDeletion) -> None:
        self._uow = uow
        self._clock = clock
        self._deletion = deletion

    async def execute(self, command: DeleteAgentCommand) -> DeleteAgentResult:
        agent = await self._uow.agents.get_for_update(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        now = self._clock.now()
        removed = await self._deletion.delete(agent, now)
        await record_events(self._uow, removed.events, now)
        await self._uow.commit()
        return DeleteAgentResult(agent_id=agent.agent_id, instances_possibly_running=removed.instances_possibly_running)
