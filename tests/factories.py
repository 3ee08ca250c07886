"""Builders with valid defaults (house style §13) and the agent use cases wired over the in-memory fakes."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from spotopt.application.ledger_book import LedgerBook
from spotopt.application.placement import Placement
from spotopt.application.settings import AgentTimings
from spotopt.application.use_cases.acknowledge_command import AcknowledgeCommand, AcknowledgeCommandCommand
from spotopt.application.use_cases.poll_commands import PollCommands, PollCommandsCommand
from spotopt.application.use_cases.record_heartbeat import RecordHeartbeat, RecordHeartbeatCommand
from spotopt.application.use_cases.register_agent import RegisterAgent, RegisterAgentCommand
from spotopt.application.use_cases.report_cleanup import ReportCleanup, ReportCleanupCommand
from spotopt.application.use_cases.report_switch import ReportSwitch, ReportSwitchCommand
from spotopt.application.use_cases.report_termination import ReportTermination, ReportTerminationCommand
from spotopt.domain.agents import Agent
from spotopt.domain.clients import Client
from spotopt.domain.command_queue import make_switch_command
from spotopt.domain.commands import Command
from spotopt.domain.episodes import InterruptionEpisode
from spotopt.domain.events import Notification, Severity
from spotopt.domain.instances import Instance
from spotopt.domain.replicas import Replica
from spotopt.domain.sightings import UnattachedSighting
from spotopt.domain.switches import InstanceFacts, Switch, SwitchTiming
from spotopt.domain.values import (
    AgentId,
    ClientId,
    CommandOrigin,
    EpisodeId,
    EpisodeState,
    InstanceId,
    InstanceOrigin,
    InstanceRole,
    Mode,
    ReplicaId,
    ReplicaKind,
    ReplicaStatus,
    SwitchId,
    new_id,
)
from tests.fakes import FixedClock, InMemoryUnitOfWork

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
OLD = InstanceId("i-0a1b2c3d4e5f67890")
NEW = InstanceId("i-0f9e8d7c6b5a43210")
THIRD = InstanceId("i-03e4f5a6b7c8d9e0f")
OLD_POOL = "t3.medium.us-east-1a"
NEW_POOL = "t3.medium.us-east-1d"
LOGICAL = "web-prod-01"


def make_client(**overrides: Any) -> Client:
    client_id = overrides.pop("client_id", None) or ClientId(new_id())
    values: dict[str, Any] = {
        "client_id": client_id,
        "name": f"client-{client_id}",
        "email": None,
        "token_hash": hashlib.sha256(client_id.encode()).hexdigest(),
        "token_hint": client_id[-4:],
        "token_issued_at": T0,
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(overrides)
    return Client(**values)


def make_agent(client_id: ClientId, **overrides: Any) -> Agent:
    """An active agent; pass ``primary=<Instance>`` to copy a primary's placement snapshot (AG-4)."""
    primary: Instance | None = overrides.pop("primary", None)
    values: dict[str, Any] = {
        "agent_id": AgentId(new_id()),
        "client_id": client_id,
        "logical_agent_id": LOGICAL,
        "created_at": T0,
        "updated_at": T0,
        "liveness_changed_at": T0,
        "last_heartbeat_at": T0,
    }
    values.update(overrides)
    agent = Agent(**values)
    if primary is not None:
        agent.set_placement(
            instance_id=primary.instance_id,
            instance_type=primary.instance_type,
            region=primary.region,
            az=primary.az,
            mode=primary.mode,
            pool_id=primary.pool_id,
            since=primary.primary_since,
        )
    return agent


def make_instance(agent_id: AgentId, client_id: ClientId, **overrides: Any) -> Instance:
    values: dict[str, Any] = {
        "client_id": client_id,
        "instance_id": OLD,
        "agent_id": agent_id,
        "role": InstanceRole.PRIMARY,
        "origin": InstanceOrigin.REGISTERED,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1a",
        "mode": Mode.SPOT,
        "first_seen_at": T0,
        "role_changed_at": T0,
        "primary_since": T0,
        "last_seen_at": T0,
        "private_ip": "10.0.1.23",
    }
    values.update(overrides)
    return Instance(**values)


def make_command(agent: Agent, **overrides: Any) -> Command:
    """A pending switch of ``agent`` (via the K1 factory), fields overridable afterwards."""
    origin = overrides.pop("origin", CommandOrigin.AUTOMATIC)
    command = make_switch_command(
        agent,
        origin=origin,
        target_mode=overrides.pop("target_mode", Mode.SPOT),
        target_pool_id=overrides.pop("target_pool_id", NEW_POOL),
        now=overrides.pop("now", T0),
        motive=overrides.pop("motive", None),
        deadline=overrides.pop("deadline", None),
        idempotency_key=overrides.pop("idempotency_key", None),
        priority=overrides.pop("priority", None),
    )
    return replace(command, **overrides) if overrides else command


def make_replica(agent: Agent, **overrides: Any) -> Replica:
    values: dict[str, Any] = {
        "replica_id": ReplicaId(new_id()),
        "client_id": agent.client_id,
        "agent_id": agent.agent_id,
        "kind": ReplicaKind.AUTOMATIC_REBALANCE,
        "status": ReplicaStatus.LAUNCHING,
        "pool_id": NEW_POOL,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1d",
        "created_by": "system",
        "created_at": T0,
    }
    values.update(overrides)
    return Replica(**values)


def make_episode(agent: Agent, instance_id: InstanceId = OLD, **overrides: Any) -> InterruptionEpisode:
    values: dict[str, Any] = {
        "episode_id": EpisodeId(new_id()),
        "client_id": agent.client_id,
        "agent_id": agent.agent_id,
        "instance_id": instance_id,
        "state": EpisodeState.AT_RISK,
        "opened_at": T0,
        "pool_id": OLD_POOL,
    }
    values.update(overrides)
    return InterruptionEpisode(**values)


def make_sighting(agent: Agent, instance_id: InstanceId = NEW, **overrides: Any) -> UnattachedSighting:
    values: dict[str, Any] = {
        "client_id": agent.client_id,
        "instance_id": instance_id,
        "agent_id": agent.agent_id,
        "first_seen_at": T0,
        "last_seen_at": T0,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1d",
        "mode": "spot",
    }
    values.update(overrides)
    return UnattachedSighting(**values)


def make_facts(instance_id: InstanceId, az: str, mode: str = "spot", **overrides: Any) -> InstanceFacts:
    pool = f"t3.medium.{az}" if mode == "spot" else None
    values: dict[str, Any] = {
        "instance_id": instance_id,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": az,
        "mode": mode,
        "pool_id": pool,
        "ami_id": "ami-0c55b159cbfafe1f0",
    }
    values.update(overrides)
    return InstanceFacts(**values)


def make_switch(agent: Agent, **overrides: Any) -> Switch:
    values: dict[str, Any] = {
        "switch_id": SwitchId(new_id()),
        "client_id": agent.client_id,
        "agent_id": agent.agent_id,
        "logical_agent_id": agent.logical_agent_id,
        "origin": "agent",
        "old": make_facts(OLD, "us-east-1a"),
        "new": make_facts(NEW, "us-east-1d"),
        "timing": SwitchTiming(),
        "applied": True,
        "received_at": T0,
    }
    values.update(overrides)
    return Switch(**values)


def make_notification(client_id: ClientId, dedup_key: str, **overrides: Any) -> Notification:
    values: dict[str, Any] = {
        "notification_id": new_id(),
        "client_id": client_id,
        "type": "agent-registered",
        "severity": Severity.INFO,
        "title": "New agent registered",
        "message": "registered",
        "dedup_key": dedup_key,
        "created_at": T0,
    }
    values.update(overrides)
    return Notification(**values)


def make_register(client_id: ClientId, **overrides: Any) -> RegisterAgentCommand:
    """A1 as agent v4 sends it (spot t3.medium in us-east-1a)."""
    values: dict[str, Any] = {
        "client_id": client_id,
        "logical_agent_id": LOGICAL,
        "instance_id": OLD,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1a",
        "mode": Mode.SPOT,
        "hostname": "ip-10-0-1-23",
        "ami_id": "ami-0c55b159cbfafe1f0",
        "agent_version": "4.0.0",
        "private_ip": "10.0.1.23",
        "public_ip": None,
    }
    values.update(overrides)
    return RegisterAgentCommand(**values)


def make_heartbeat(agent: Agent, instance_id: str | None = OLD, **overrides: Any) -> RecordHeartbeatCommand:
    """A2 as agent v4 sends it (its own instance in ``instance_id`` and ``monitored_instances``)."""
    values: dict[str, Any] = {
        "client_id": agent.client_id,
        "agent_id": agent.agent_id,
        "status": "online",
        "instance_id": instance_id,
        "monitored_instances": [instance_id] if instance_id else [],
    }
    values.update(overrides)
    return RecordHeartbeatCommand(**values)


def make_switch_report(agent: Agent, **overrides: Any) -> ReportSwitchCommand:
    """A7 as agent v4 sends it: OLD (us-east-1a) → NEW (us-east-1d), no ``command_id``."""
    values: dict[str, Any] = {
        "client_id": agent.client_id,
        "agent_id": agent.agent_id,
        "old": make_facts(OLD, "us-east-1a"),
        "new": make_facts(NEW, "us-east-1d"),
        "reported_prices": {"on_demand": 0.0416, "new_spot": 0.0112},
        "trigger": "model",
    }
    values.update(overrides)
    return ReportSwitchCommand(**values)


@dataclass
class AgentWorld:
    """The agent use cases built directly over one in-memory unit of work and a fixed clock (no container)."""

    uow: InMemoryUnitOfWork = field(default_factory=InMemoryUnitOfWork)
    clock: FixedClock = field(default_factory=FixedClock)
    timings: AgentTimings = field(default_factory=AgentTimings)

    @property
    def placement(self) -> Placement:
        return Placement(self.uow, LedgerBook(self.uow))

    @property
    def register(self) -> RegisterAgent:
        return RegisterAgent(self.uow, self.clock, self.placement, self.timings)

    @property
    def heartbeat(self) -> RecordHeartbeat:
        return RecordHeartbeat(self.uow, self.clock, self.placement, self.timings)

    @property
    def poll(self) -> PollCommands:
        return PollCommands(self.uow, self.clock, self.timings)

    @property
    def ack(self) -> AcknowledgeCommand:
        return AcknowledgeCommand(self.uow, self.clock)

    @property
    def report_switch(self) -> ReportSwitch:
        return ReportSwitch(self.uow, self.clock, self.placement)

    @property
    def report_termination(self) -> ReportTermination:
        return ReportTermination(self.uow, self.clock, self.placement)

    @property
    def report_cleanup(self) -> ReportCleanup:
        return ReportCleanup(self.uow, self.clock, self.placement)

    async def add_client(self, **overrides: Any) -> Client:
        client = make_client(**overrides)
        await self.uow.clients.add(client)
        return client

    async def registered(self, client: Client | None = None, **overrides: Any) -> Agent:
        """A client (made when missing) whose agent registered OLD as its primary (R-1)."""
        client = client or await self.add_client()
        result = await self.register.execute(make_register(client.client_id, **overrides))
        return result.config.agent

    async def queue(self, agent: Agent, **overrides: Any) -> Command:
        command = make_command(agent, now=overrides.pop("now", self.clock.now()), **overrides)
        await self.uow.commands.add(command)
        return command

    async def poll_once(self, agent: Agent, source: str | None = None) -> Command | None:
        return await self.poll.execute(
            PollCommandsCommand(client_id=agent.client_id, agent_id=agent.agent_id, source_address=source)
        )

    async def acknowledge(self, agent: Agent, command: Command, *, success: bool = True) -> Command:
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


def later(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)
