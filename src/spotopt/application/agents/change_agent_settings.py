"""C6: replica mode and termination settings (domain §3.6 M1 – M6, AG-5, AG-6, RP-7)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.agents.placement import Placement
from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.settings import SettingsChange, SettingsOutcome, change_settings
from spotopt.domain.commands.cancellation import cancel_voluntary
from spotopt.domain.replicas.lifecycle import RetireReason
from spotopt.domain.replicas.values import ReplicaKind
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeAgentSettingsCommand:
    client_id: ClientId
    agent_id: str
    change: SettingsChange


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeAgentSettingsResult:
    agent: Agent
    retired_replica_ids: tuple[str, ...]
    cancelled_command_ids: tuple[str, ...]


class ChangeAgentSettings:
    """- M1: both replica modes on is rejected before anything is read (400).
    - Locks the agent row (CC-3), then reads its replicas and commands (CC-2 order); one transaction (CC-1).
    - M2/M4: leaving manual-replica mode retires ``manual`` replicas not attached to an open episode
      (``mode_changed``, RP-7), with the I9 effects on their instances.
    - M3/M5: entering manual-replica mode or turning auto-switch off cancels pending ``automatic``/``api``
      switches (``mode_changed``); upkeep creates the manual standby on its next tick.
    - M6: termination settings apply to commands created afterwards.
    - Events ``mode_changed`` / ``settings_changed``; an unchanged request records nothing (idempotent).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, placement: Placement) -> None:
        self._uow = uow
        self._clock = clock
        self._placement = placement

    async def execute(self, command: ChangeAgentSettingsCommand) -> ChangeAgentSettingsResult:
        agent = await self._uow.agents.get_for_update(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        outcome = change_settings(agent, command.change)
        if not outcome.changed:
            return ChangeAgentSettingsResult(agent=agent, retired_replica_ids=(), cancelled_command_ids=())
        now = self._clock.now()
        events: list[DomainEvent] = []
        retired: list[str] = []
        if outcome.retire_manual_replicas:
            open_ids = {e.episode_id for e in await self._uow.episodes.find_open(agent.agent_id)}
            for replica in await self._uow.replicas.list_for_agent(agent.agent_id):
                if replica.kind is not ReplicaKind.MANUAL or replica.episode_id in open_ids:
                    continue
                events += await self._placement.retire_replica(agent, replica, RetireReason.MODE_CHANGED, now)
                retired.append(replica.replica_id)
        cancelled = []
        if outcome.cancel_voluntary_commands:
            cancelled = cancel_voluntary(await self._uow.commands.list_for_agent(agent.agent_id), now)
        agent.touch(now)
        events += _events(agent, outcome, retired, [c.command_id for c in cancelled])
        await record_events(self._uow, events, now)
        await self._uow.commit()
        return ChangeAgentSettingsResult(
            agent=agent,
            retired_replica_ids=tuple(retired),
            cancelled_command_ids=tuple(c.command_id for c in cancelled),
        )


def _events(agent: Agent, outcome: SettingsOutcome, retired: list[str], cancelled: list[str]) -> list[DomainEvent]:
    label = notices.agent_label(agent)
    events: list[DomainEvent] = []
    if outcome.mode_changed:
        mode = (
            "auto-switch"
            if agent.auto_switch_enabled
            else "manual-replica"
            if agent.manual_replica_enabled
            else "observe"
        )
        events.append(
            notices.plain(
                agent,
                "mode_changed",
                Severity.INFO,
                f"Agent {label} is now in {mode} mode.",
                auto_switch_enabled=agent.auto_switch_enabled,
                manual_replica_enabled=agent.manual_replica_enabled,
                retired_replica_ids=retired,
                cancelled_command_ids=cancelled,
            )
        )
    if outcome.settings_changed:
        events.append(
            notices.plain(
                agent,
                "settings_changed",
                Severity.INFO,
                f"Agent {label}: termination settings changed.",
                auto_terminate_enabled=agent.auto_terminate_enabled,
                terminate_wait_seconds=agent.terminate_wait_seconds,
            )
        )
    return events
