"""Fakes of the commands ports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from spotopt.application.ports.agents import AgentRef
from spotopt.application.ports.commands import SwitchActivity
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch import CleanupRecord, Switch
from spotopt.domain.commands.values import TERMINAL_COMMAND, CommandOrigin, CommandStatus, CommandType
from spotopt.domain.shared.ids import AgentId, CommandId
from tests.fakes.store import InMemoryRepository, agent_refs_after


class InMemoryCommandRepository(InMemoryRepository):
    async def get(self, agent_id: AgentId, command_id: str) -> AgentCommand | None:
        command = self.store.commands.get(command_id)
        return command if command is not None and command.agent_id == agent_id else None

    async def list_for_agent(self, agent_id: AgentId, *, since: datetime | None = None) -> Sequence[AgentCommand]:
        found = [
            c
            for c in self.store.commands.values()
            if c.agent_id == agent_id
            and (
                c.status not in TERMINAL_COMMAND
                or (since is not None and c.completed_at is not None and c.completed_at >= since)
            )
        ]
        return sorted(found, key=lambda c: (c.created_at, c.command_id))

    async def find_by_idempotency_key(self, agent_id: AgentId, key: str) -> AgentCommand | None:
        return next(
            (c for c in self.store.commands.values() if c.agent_id == agent_id and c.idempotency_key == key), None
        )

    async def add(self, command: AgentCommand) -> None:
        self.store.commands[command.command_id] = command

    async def switch_activity(self, agent_id: AgentId, since: datetime) -> SwitchActivity:
        switches = [c for c in self.store.commands.values() if c.agent_id == agent_id and c.type is CommandType.SWITCH]
        delivered = sorted(
            c.delivered_at
            for c in switches
            if c.origin is not CommandOrigin.EMERGENCY
            and c.status is not CommandStatus.FAILED
            and c.delivered_at is not None
            and c.delivered_at >= since
        )
        finished = [
            c.completed_at
            for c in switches
            if c.status in (CommandStatus.COMPLETED, CommandStatus.FAILED) and c.completed_at is not None
        ]
        return SwitchActivity(delivered_at=tuple(delivered), last_finished_at=max(finished, default=None))

    async def agents_with_live_commands(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        live = ((c.client_id, c.agent_id) for c in self.store.commands.values() if c.status not in TERMINAL_COMMAND)
        return agent_refs_after(live, limit, after)


class InMemorySwitchRepository(InMemoryRepository):
    async def find_by_new_instance(self, agent_id: AgentId, new_instance_id: str) -> Switch | None:
        return next(
            (
                s
                for s in self.store.switches.values()
                if s.agent_id == agent_id and s.new.instance_id == new_instance_id
            ),
            None,
        )

    async def exists_for_command(self, command_id: CommandId) -> bool:
        return any(s.command_id == command_id for s in self.store.switches.values())

    async def add(self, switch: Switch) -> None:
        self.store.switches[switch.switch_id] = switch


class InMemoryCleanupRepository(InMemoryRepository):
    async def find_by_reported_at(self, agent_id: AgentId, reported_at: datetime) -> CleanupRecord | None:
        return next(
            (r for r in self.store.cleanups.values() if r.agent_id == agent_id and r.reported_at == reported_at), None
        )

    async def add(self, record: CleanupRecord) -> None:
        self.store.cleanups[record.record_id] = record
