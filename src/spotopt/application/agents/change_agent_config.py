"""C7: decision thresholds and switch limits (domain §3.6 M7, AG-7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from spotopt.application.agents.config_view import AgentConfigView, config_view
from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.settings import change_thresholds
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeAgentConfigCommand:
    client_id: ClientId
    agent_id: str
    thresholds: dict[str, Decimal | int] = field(default_factory=dict)


class ChangeAgentConfig:
    """- Locks the agent row (CC-3); not found for a deleted or foreign agent.
    - AG-7: the merged thresholds must all be in range, weekly ≥ the effective daily limit; invalid values are
      rejected (400), never clamped; nothing is written on failure.
    - M7: stored and used from the next decision on; event ``settings_changed``; the same values again record
      nothing (idempotent).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, command: ChangeAgentConfigCommand) -> AgentConfigView:
        agent = await self._uow.agents.get_for_update(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        if not change_thresholds(agent, command.thresholds):
            return await config_view(self._uow, agent)
        now = self._clock.now()
        agent.touch(now)
        text = f"Agent {notices.agent_label(agent)}: decision thresholds changed."
        values = {name: str(value) for name, value in command.thresholds.items()}
        await record_events(self._uow, [notices.plain(agent, "settings_changed", Severity.INFO, text, **values)], now)
        await self._uow.commit()
        return await config_view(self._uow, agent)
