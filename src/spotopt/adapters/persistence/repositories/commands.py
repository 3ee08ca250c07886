"""Agent commands, switch records and cleanup records (ports in ``application/ports/commands.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select

from spotopt.adapters.persistence.mappers.commands import CLEANUPS, COMMANDS, SWITCHES
from spotopt.adapters.persistence.models.commands import CleanupRecordModel, CommandModel, SwitchModel
from spotopt.adapters.persistence.repositories.base import SqlAlchemyRepository, agent_refs
from spotopt.application.ports.agents import AgentRef
from spotopt.application.ports.commands import SwitchActivity
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch import CleanupRecord, Switch
from spotopt.domain.commands.values import TERMINAL_COMMAND, CommandOrigin, CommandStatus, CommandType
from spotopt.domain.shared.ids import AgentId, CommandId

_TERMINAL = [s.value for s in TERMINAL_COMMAND]
_FINISHED = [CommandStatus.COMPLETED.value, CommandStatus.FAILED.value]


class SqlAlchemyCommandRepository(SqlAlchemyRepository[AgentCommand, CommandModel]):
    mapper = COMMANDS

    async def get(self, agent_id: AgentId, command_id: str) -> AgentCommand | None:
        c = CommandModel
        return await self._one(select(c).where(c.agent_id == agent_id, c.command_id == command_id))

    async def list_for_agent(self, agent_id: AgentId, *, since: datetime | None = None) -> Sequence[AgentCommand]:
        c = CommandModel
        open_ = c.status.not_in(_TERMINAL)
        cond = open_ if since is None else or_(open_, c.completed_at >= since)
        return await self._list(c.agent_id == agent_id, cond, order_by=[c.created_at.asc(), c.command_id.asc()])

    async def find_by_idempotency_key(self, agent_id: AgentId, key: str) -> AgentCommand | None:
        c = CommandModel
        return await self._one(select(c).where(c.agent_id == agent_id, c.idempotency_key == key))

    async def add(self, command: AgentCommand) -> None:
        self._db.add(COMMANDS, command)

    async def switch_activity(self, agent_id: AgentId, since: datetime) -> SwitchActivity:
        """§6.2 counters: non-emergency switch deliveries since ``since`` (not failed) and the last finished switch."""
        c = CommandModel
        is_switch = and_(c.agent_id == agent_id, c.type == CommandType.SWITCH.value)
        delivered = (
            select(c.delivered_at)
            .where(
                is_switch,
                c.origin != CommandOrigin.EMERGENCY.value,
                c.status != CommandStatus.FAILED.value,
                c.delivered_at >= since,
            )
            .order_by(c.delivered_at)
        )
        last = select(func.max(c.completed_at)).where(is_switch, c.status.in_(_FINISHED))
        times = tuple((await self._db.execute(delivered)).scalars().all())
        return SwitchActivity(delivered_at=times, last_finished_at=(await self._db.execute(last)).scalar())

    async def agents_with_live_commands(self, limit: int, *, after: AgentId | None = None) -> Sequence[AgentRef]:
        c = CommandModel
        stmt = select(c.client_id, c.agent_id).where(c.status.not_in(_TERMINAL))
        return await agent_refs(self._db, stmt, c.agent_id, limit, after)


class SqlAlchemySwitchRepository(SqlAlchemyRepository[Switch, SwitchModel]):
    mapper = SWITCHES

    async def find_by_new_instance(self, agent_id: AgentId, new_instance_id: str) -> Switch | None:
        s = SwitchModel
        return await self._one(select(s).where(s.agent_id == agent_id, s.new_instance_id == new_instance_id))

    async def exists_for_command(self, command_id: CommandId) -> bool:
        stmt = select(exists().where(SwitchModel.command_id == command_id))
        return bool((await self._db.execute(stmt)).scalar())

    async def add(self, switch: Switch) -> None:
        self._db.add(SWITCHES, switch)


class SqlAlchemyCleanupRepository(SqlAlchemyRepository[CleanupRecord, CleanupRecordModel]):
    mapper = CLEANUPS

    async def find_by_reported_at(self, agent_id: AgentId, reported_at: datetime) -> CleanupRecord | None:
        r = CleanupRecordModel
        return await self._one(select(r).where(r.agent_id == agent_id, r.reported_at == reported_at))

    async def add(self, record: CleanupRecord) -> None:
        self._db.add(CLEANUPS, record)
