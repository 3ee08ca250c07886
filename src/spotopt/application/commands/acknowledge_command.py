"""A5: the agent acknowledges an executed command (K7, K8, K10, K11, CM-8)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.queue import acknowledge
from spotopt.domain.commands.values import CommandStatus, CommandType
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.pools import Mode


@dataclass(frozen=True, slots=True, kw_only=True)
class AcknowledgeCommandCommand:
    client_id: ClientId
    agent_id: str
    command_id: str
    success: bool
    message: str | None = None
    result: dict[str, object] | None = None


class AcknowledgeCommand:
    """- delivered → completed / failed (event ``switch_failed`` + notification; the cooldown starts).
    - A repeat returns the recorded status and changes nothing; a contradicting one is logged (CM-8).
    - A pending command cannot be acknowledged (409 ``not_delivered``). Placement moves only via R-5/S-3.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, command: AcknowledgeCommandCommand) -> AgentCommand:
        agent = await self._uow.agents.get_for_update(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        target = await self._uow.commands.get(agent.agent_id, command.command_id)
        if target is None:
            raise NotFoundError("Command not found")
        now = self._clock.now()
        outcome = acknowledge(target, success=command.success, message=command.message, result=command.result, now=now)
        events: list[DomainEvent] = []
        if outcome.conflict:
            message = f"Acknowledgement contradicts recorded status {target.status.value}"
            events.append(
                notices.plain(agent, "command_ack_conflict", Severity.WARNING, message, command_id=target.command_id)
            )
        if outcome.changed and target.status is CommandStatus.FAILED and target.type is CommandType.SWITCH:
            where = "on-demand" if target.target_mode is Mode.ONDEMAND else f"spot {target.target_pool_id}"
            events.append(notices.switch_failed(agent, where, command.message or "failed", target.command_id))
        await record_events(self._uow, events, now)
        if outcome.changed or events:
            await self._uow.commit()
        return target
