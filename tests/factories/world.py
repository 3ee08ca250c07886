"""An agent world: use cases over one in-memory unit of work, each call its own scope, with invariant checks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from spotopt.application.agents.placement import Placement
from spotopt.application.agents.record_heartbeat import RecordHeartbeat, RecordHeartbeatCommand
from spotopt.application.agents.register_agent import RegisterAgent, RegisterAgentCommand, RegisterAgentResult
from spotopt.application.agents.report_cleanup import ReportCleanup, ReportCleanupCommand, ReportCleanupResult
from spotopt.application.agents.report_termination import (
    ReportTermination,
    ReportTerminationCommand,
    ReportTerminationResult,
)
from spotopt.application.agents.timings import AgentTimings
from spotopt.application.commands.acknowledge_command import AcknowledgeCommand, AcknowledgeCommandCommand
from spotopt.application.commands.poll_commands import PollCommands, PollCommandsCommand
from spotopt.application.commands.report_switch import ReportSwitch, ReportSwitchCommand, ReportSwitchResult
from spotopt.application.ledger.ledger_book import LedgerBook
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.clients.client import Client
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.shared.ids import InstanceId
from tests.factories.agents import make_client, make_register
from tests.factories.commands import make_command
from tests.fakes.liveness import InMemoryLivenessRefresher
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork, InScope


@dataclass
class AgentWorld:
    """The agent use cases built directly over one in-memory unit of work and a fixed clock (no container)."""

    uow: InMemoryUnitOfWork = field(default_factory=InMemoryUnitOfWork)
    clock: FixedClock = field(default_factory=FixedClock)
    timings: AgentTimings = field(default_factory=AgentTimings)

    @property
    def placement(self) -> Placement:
        return Placement(self.uow, LedgerBook(self.uow))

    # Each use case runs in its own scope (InScope): the scope ends after every call, so a use case that does not
    # commit, or fails half-way, leaves nothing behind.

    @property
    def register(self) -> InScope[[RegisterAgentCommand], RegisterAgentResult]:
        return InScope(RegisterAgent(self.uow, self.clock, self.placement, self.timings).execute, self.uow)

    @property
    def heartbeat(self) -> InScope[[RecordHeartbeatCommand], None]:
        return InScope(
            RecordHeartbeat(
                self.uow, self.clock, self.placement, self.timings, InMemoryLivenessRefresher(self.uow)
            ).execute,
            self.uow,
        )

    @property
    def poll(self) -> InScope[[PollCommandsCommand], AgentCommand | None]:
        return InScope(PollCommands(self.uow, self.clock, self.timings).execute, self.uow)

    @property
    def ack(self) -> InScope[[AcknowledgeCommandCommand], AgentCommand]:
        return InScope(AcknowledgeCommand(self.uow, self.clock).execute, self.uow)

    @property
    def report_switch(self) -> InScope[[ReportSwitchCommand], ReportSwitchResult]:
        return InScope(ReportSwitch(self.uow, self.clock, self.placement).execute, self.uow)

    @property
    def report_termination(self) -> InScope[[ReportTerminationCommand], ReportTerminationResult]:
        return InScope(ReportTermination(self.uow, self.clock, self.placement).execute, self.uow)

    @property
    def report_cleanup(self) -> InScope[[ReportCleanupCommand], ReportCleanupResult]:
        return InScope(ReportCleanup(self.uow, self.clock, self.placement).execute, self.uow)

    async def add_client(self, **overrides: Any) -> Client:
        client = make_client(**overrides)
        await self.uow.clients.add(client)
        await self.uow.commit_setup()
        return client

    async def registered(self, client: Client | None = None, **overrides: Any) -> Agent:
        """A client (made when missing) whose agent registered OLD as its primary (R-1)."""
        client = client or await self.add_client()
        result = await self.register.execute(make_register(client.client_id, **overrides))
        return result.config.agent

    async def queue(self, agent: Agent, **overrides: Any) -> AgentCommand:
        command = make_command(agent, now=overrides.pop("now", self.clock.now()), **overrides)
        await self.uow.commands.add(command)
        await self.uow.commit_setup()
        return command

    async def poll_once(self, agent: Agent, source: str | None = None) -> AgentCommand | None:
        return await self.poll.execute(
            PollCommandsCommand(client_id=agent.client_id, agent_id=agent.agent_id, source_address=source)
        )

    async def acknowledge(self, agent: Agent, command: AgentCommand, *, success: bool = True) -> AgentCommand:
        message = "Switch completed" if success else "Switch failed"
        return await self.ack.execute(
            AcknowledgeCommandCommand(
                client_id=agent.client_id,
                agent_id=agent.agent_id,
                command_id=command.command_id,
                success=success,
                message=message,
            )
        )

    async def terminate(self, agent: Agent, instance_id: str | None = None) -> None:
        command = ReportTerminationCommand(client_id=agent.client_id, agent_id=agent.agent_id, instance_id=instance_id)
        await self.report_termination.execute(command)

    async def cleanup(self, agent: Agent, **overrides: Any) -> None:
        values: dict[str, Any] = {"client_id": agent.client_id, "agent_id": agent.agent_id}
        values.update(overrides)
        await self.report_cleanup.execute(ReportCleanupCommand(**values))

    def instance(self, agent: Agent, instance_id: str) -> Instance:
        return self.uow.store.instances[(agent.client_id, instance_id)]

    def events(self, type_: str) -> list[str]:
        return [e.instance_id or "" for e in self.uow.store.events if e.type == type_]

    def notifications(self, name: str) -> list[Notification]:
        return [n for n in self.uow.store.notifications.values() if n.type == name]

    def advance(self, **kwargs: float) -> datetime:
        return self.clock.advance(**kwargs)


def primaries(world: AgentWorld, agent: Agent) -> list[InstanceId]:
    return [
        i.instance_id
        for i in world.uow.store.instances.values()
        if i.agent_id == agent.agent_id and i.role is InstanceRole.PRIMARY
    ]


def assert_one_primary(world: AgentWorld, agent: Agent) -> None:
    """AG-3/IN-2/IN-4: never two primaries; the agent's pointer names the one primary (or None after T-1)."""
    found = primaries(world, agent)
    assert len(found) <= 1
    assert agent.primary_instance_id == (found[0] if found else None)


def assert_ledger_consistent(world: AgentWorld) -> None:
    """IN-8/LG-1: every non-terminated instance has exactly one open entry, a terminated one none, and the open
    entry's role is the instance's role."""
    store = world.uow.store
    open_entries = [e for e in store.ledger.values() if e.ended_at is None]
    open_count: Counter[tuple[str, str]] = Counter((e.client_id, e.instance_id) for e in open_entries)
    open_role: dict[tuple[str, str], InstanceRole] = {(e.client_id, e.instance_id): e.role for e in open_entries}
    for key, instance in store.instances.items():
        expected = 0 if instance.is_terminated else 1
        assert open_count[key] == expected, (instance.instance_id, instance.role, open_count[key])
        if expected:
            assert open_role[key] is instance.role, (instance.instance_id, instance.role, open_role[key])
    assert set(open_count) <= set(store.instances)


def ledger_history(world: AgentWorld, instance_id: str) -> list[tuple[InstanceRole, datetime, datetime | None]]:
    """An instance's ledger entries as (role, started_at, ended_at), oldest first."""
    entries = world.uow.ledger.entries_of(instance_id)
    return [(e.role, e.started_at, e.ended_at) for e in entries]
