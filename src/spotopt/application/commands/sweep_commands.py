"""The command sweeper job (domain §7.2 "Command sweeper"; K3 expiry, K6, K9)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.agents import AgentRef
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.commands.queue import NOT_ACKNOWLEDGED_MESSAGE, SweepChange, sweep
from spotopt.domain.commands.values import CommandType
from spotopt.domain.shared.errors import DomainError
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import AgentId
from spotopt.domain.shared.pools import Mode

DEFAULT_BATCH_SIZE = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepCommandsCommand:
    """One bounded batch (JB-5): at most ``limit`` agents with live commands after ``after`` (keyset)."""

    after: AgentId | None = None
    limit: int = DEFAULT_BATCH_SIZE


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepCommandsResult:
    """Counts for the job-run summary (JB-4): ``expired`` (K3), ``unacknowledged`` (K6), ``completed_unacknowledged``
    (K9); pass ``next_after`` back as ``after`` while it is not None.
    """

    agents: int = 0
    expired: int = 0
    unacknowledged: int = 0
    completed_unacknowledged: int = 0
    skipped: tuple[AgentId, ...] = ()
    failed: tuple[AgentId, ...] = ()
    next_after: AgentId | None = None


_COUNTED = {"K3": "expired", "K6": "unacknowledged", "K9": "completed_unacknowledged"}


class SweepCommands:
    """- K3: a pending command past ``expires_at`` is cancelled (``expired``); an emergency command never before its
      own ``expires_at``.
    - K6: a delivered, unpinned command whose third lease ran out fails (``not acknowledged after 3 deliveries``);
      a switch emits ``switch_failed`` with N-switch-failed (dedup ``switch_failed:<command_id>``).
    - K9: a pinned command unacknowledged 2 h after pinning completes (``completed without acknowledgement``).
    - Never hands out a command and never cancels a delivered one (``command_queue.sweep``).
    - One agent per transaction, locked with ``SKIP LOCKED`` (CC-4); repeats are no-ops (state checks). A failing
      agent is rolled back and reported; the others proceed (JB-3).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, command: SweepCommandsCommand) -> SweepCommandsResult:
        now = self._clock.now()
        refs = await self._uow.commands.agents_with_live_commands(command.limit, after=command.after)
        counts: Counter[str] = Counter()
        skipped, failed = [], []
        for ref in refs:
            try:
                changes = await self._sweep_agent(ref, now)
            except DomainError:
                await self._uow.rollback()
                failed.append(ref.agent_id)
                continue
            if changes is None:
                skipped.append(ref.agent_id)
            else:
                counts.update(_COUNTED[change.rule] for change in changes)
        return SweepCommandsResult(
            agents=len(refs),
            expired=counts["expired"],
            unacknowledged=counts["unacknowledged"],
            completed_unacknowledged=counts["completed_unacknowledged"],
            skipped=tuple(skipped),
            failed=tuple(failed),
            next_after=refs[-1].agent_id if len(refs) >= command.limit else None,
        )

    async def _sweep_agent(self, ref: AgentRef, now: datetime) -> list[SweepChange] | None:
        """The changes made for one agent, or None when its row is locked elsewhere (or it is gone)."""
        agent = await self._uow.agents.get_for_update_skip_locked(ref.client_id, ref.agent_id)
        if agent is None:
            await self._uow.rollback()
            return None
        changes = sweep(await self._uow.commands.list_for_agent(agent.agent_id), now)
        if not changes:
            await self._uow.rollback()
            return changes
        await record_events(self._uow, [e for change in changes for e in _events(agent, change)], now)
        await self._uow.commit()
        return changes


def _events(agent: Agent, change: SweepChange) -> list[DomainEvent]:
    """K6 on a switch: event ``switch_failed`` + N-switch-failed (§8.2 "unacknowledged after delivery")."""
    command = change.command
    if change.rule != "K6" or command.type is not CommandType.SWITCH:
        return []
    where = "on-demand" if command.target_mode is Mode.ONDEMAND else f"spot {command.target_pool_id}"
    return [notices.switch_failed(agent, where, NOT_ACKNOWLEDGED_MESSAGE, command.command_id)]
