"""M2: deactivate a client and delete its agents (domain CL-6, CL-2, §3.1 A9)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.tenants import AgentRemoval, TenantAgents
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteClientCommand:
    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteClientResult:
    client_id: ClientId
    agents_deleted: int


class DeleteClient:
    """- Locks the client row, then each agent in id order (CC-2); one transaction (CL-6, CC-1).
    - ``status=inactive``, ``deleted_at`` set once: the token authenticates nothing from the commit on (CL-2).
    - Every non-deleted agent is deleted with A9's effects; nothing another client owns is read or changed.
    - Event ``client_deleted`` (system only). A repeat answers with ``agents_deleted`` 0 and records nothing.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, agents: TenantAgents, removal: AgentRemoval) -> None:
        self._uow = uow
        self._clock = clock
        self._agents = agents
        self._removal = removal

    async def execute(self, command: DeleteClientCommand) -> DeleteClientResult:
        client = await self._uow.clients.get_for_update(ClientId(command.client_id))
        if client is None:
            raise NotFoundError("Client not found")
        now = self._clock.now()
        was_active = client.is_active
        events: list[DomainEvent] = []
        deleted = 0
        for agent_id in await self._agents.active_agent_ids(client.client_id):
            agent = await self._uow.agents.get_for_update(client.client_id, agent_id)
            if agent is None:
                continue
            events += (await self._removal.delete(agent, now)).events
            deleted += 1
        if not was_active and deleted == 0:
            return DeleteClientResult(client_id=client.client_id, agents_deleted=0)
        client.deactivate(now)
        events.append(
            DomainEvent(
                type="client_deleted",
                severity=Severity.WARNING,
                message=f"Client {client.name} deactivated; {deleted} agents deleted.",
                client_id=client.client_id,
                metadata={"agents_deleted": deleted},
            )
        )
        await record_events(self._uow, events, now)
        await self._uow.commit()
        return DeleteClientResult(client_id=client.client_id, agents_deleted=deleted)
