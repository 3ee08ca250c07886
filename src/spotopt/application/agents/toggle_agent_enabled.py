"""C5: enable or disable an agent (domain §3.1 E1/E2, AG-9)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.commands.cancellation import cancel_for_disabled
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ToggleAgentEnabledCommand:
    client_id: ClientId
    agent_id: str
    enabled: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ToggleAgentEnabledResult:
    agent_id: str
    enabled: bool
    cancelled_command_ids: tuple[str, ...]


class ToggleAgentEnabled:
    """- Locks the agent row (CC-3); a deleted or foreign agent is not found (AG-2, CL-4).
    - E1 ``true → false``: pending switch commands with origin ≠ ``emergency`` → ``cancelled(agent_disabled)``;
      event ``agent_disabled``. Upkeep and decisions read the flag, so they pause by themselves (AG-9).
    - E2 ``false → true``: event ``agent_enabled``.
    - The same value again changes nothing and records no event (idempotent).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, command: ToggleAgentEnabledCommand) -> ToggleAgentEnabledResult:
        agent = await self._uow.agents.get_for_update(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        if agent.enabled is command.enabled:
            return ToggleAgentEnabledResult(agent_id=agent.agent_id, enabled=agent.enabled, cancelled_command_ids=())
        now = self._clock.now()
        agent.enabled = command.enabled
        cancelled = (
            [] if command.enabled else cancel_for_disabled(await self._uow.commands.list_for_agent(agent.agent_id), now)
        )
        agent.touch(now)
        label = notices.agent_label(agent)
        if command.enabled:
            event = notices.plain(agent, "agent_enabled", Severity.INFO, f"Agent {label} enabled.")
        else:
            ids = [c.command_id for c in cancelled]
            event = notices.plain(
                agent, "agent_disabled", Severity.INFO, f"Agent {label} disabled.", cancelled_command_ids=ids
            )
        await record_events(self._uow, [event], now)
        await self._uow.commit()
        return ToggleAgentEnabledResult(
            agent_id=agent.agent_id,
            enabled=agent.enabled,
            cancelled_command_ids=tuple(c.command_id for c in cancelled),
        )
