"""Ports of the commands feature: the command queue, switch records and cleanup records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from spotopt.application.ports.agents import AgentRef
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch import CleanupRecord, Switch
from spotopt.domain.shared.ids import AgentId, CommandId


class CommandRepository(Protocol):
    async def get(self, agent_id: AgentId, command_id: str) -> AgentCommand | None: ...

    async def list_for_agent(self, agent_id: AgentId, *, since: datetime | None = None) -> Sequence[AgentCommand]:
        """Non-terminal commands plus terminal ones finished at or after ``since``."""
        ...

    async def find_by_idempotency_key(self, agent_id: AgentId, key: str) -> AgentCommand | None: ...

    async def add(self, command: AgentCommand) -> None: ...

    async def switch_activity(self, agent_id: AgentId, since: datetime) -> SwitchActivity:
        """§6.2 counter inputs: ``delivered_at`` of the agent's switch commands with origin ≠ emergency delivered at
        or after ``since`` and not failed (oldest first), and the latest completion or failure of any switch.
        """
        ...

    async def agents_with_live_commands(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        """Command sweeper inputs: agents with a ``pending`` or ``delivered`` command, by agent id after ``after``."""
        ...


class SwitchRepository(Protocol):
    async def find_by_new_instance(self, agent_id: AgentId, new_instance_id: str) -> Switch | None: ...

    async def exists_for_command(self, command_id: CommandId) -> bool: ...

    async def add(self, switch: Switch) -> None: ...


class CleanupRepository(Protocol):
    async def find_by_reported_at(self, agent_id: AgentId, reported_at: datetime) -> CleanupRecord | None: ...

    async def add(self, record: CleanupRecord) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchActivity:
    """Raw §6.2 counter inputs read from the command store (see ``CommandRepository.switch_activity``)."""

    delivered_at: tuple[datetime, ...] = ()
    last_finished_at: datetime | None = None
