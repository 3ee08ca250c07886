"""The health monitor's agent part (domain A7, job catalogue "Health monitor")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.application.agents.timings import AgentTimings
from spotopt.application.errors import LockContentionError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.agents import StaleAgent
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import Liveness
from spotopt.domain.shared.errors import DomainError
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import AgentId
from spotopt.domain.shared.time import utc_iso


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkStaleAgentsOfflineResult:
    marked_offline: tuple[AgentId, ...] = ()
    skipped: tuple[AgentId, ...] = ()
    failed: tuple[AgentId, ...] = ()


def agent_offline(agent: Agent, last_heartbeat_at: datetime, now: datetime) -> DomainEvent:
    """A7 effects: event ``agent_offline`` and N-agent-offline, deduplicated per offline period (NT-4)."""
    seconds = int((now - last_heartbeat_at).total_seconds())
    text = (
        f"Agent {notices.agent_label(agent)} has sent no heartbeat for {seconds} s "
        f"(last at {utc_iso(last_heartbeat_at)})."
    )
    return notices.event(
        agent, "agent_offline", Severity.WARNING, text,
        notify=("agent-offline", Severity.WARNING, "Agent offline", text),
        dedup=f"agent_offline:{agent.agent_id}:{utc_iso(last_heartbeat_at)}",
        last_heartbeat_at=utc_iso(last_heartbeat_at), seconds=seconds,
    )  # fmt: skip


class MarkStaleAgentsOffline:
    """A7: an ``online`` agent silent for longer than the heartbeat timeout becomes ``offline``.

    - Candidates: active, online, ``last_heartbeat_at < now − timeout``; deleted agents are never touched.
    - One agent per transaction (CC-4), locked with ``SKIP LOCKED``: a busy agent waits for the next tick.
    - Compare-and-set: under the lock the heartbeat must still be the value read; a newer one means the agent is
      alive and it is left alone.
    - Event ``agent_offline`` and N-agent-offline (dedup ``agent_offline:<agent_id>:<last heartbeat>``, so one
      offline period notifies once); ``offline_notified`` is set for the back-online notice (A5).
    - Never changes ``enabled`` or settings. An agent that fails (business rule, lock contention) is rolled back
      and reported; the others proceed (JB-3).
    - At most ``BATCH_SIZE`` agents per run; the next tick continues with the oldest remaining (JB-5).
    """

    BATCH_SIZE = 200

    def __init__(self, uow: UnitOfWork, clock: Clock, timings: AgentTimings) -> None:
        self._uow = uow
        self._clock = clock
        self._timeout = timedelta(seconds=timings.heartbeat_timeout)

    async def execute(self) -> MarkStaleAgentsOfflineResult:
        now = self._clock.now()
        candidates = await self._uow.agents.list_stale_online(now - self._timeout, self.BATCH_SIZE)
        outcome: dict[str, list[AgentId]] = {"marked": [], "skipped": [], "failed": []}
        for candidate in candidates:
            try:
                marked = await self._mark(candidate, now)
            except (DomainError, LockContentionError):
                await self._uow.rollback()
                outcome["failed"].append(candidate.agent_id)
                continue
            outcome["marked" if marked else "skipped"].append(candidate.agent_id)
        return MarkStaleAgentsOfflineResult(
            marked_offline=tuple(outcome["marked"]),
            skipped=tuple(outcome["skipped"]),
            failed=tuple(outcome["failed"]),
        )

    async def _mark(self, candidate: StaleAgent, now: datetime) -> bool:
        agent = await self._uow.agents.get_for_update_skip_locked(candidate.client_id, candidate.agent_id)
        if agent is None or not self._still_stale(agent, candidate, now):
            await self._uow.rollback()
            return False
        agent.mark_offline(now)
        agent.offline_notified = True
        agent.updated_at = now
        await record_events(self._uow, [agent_offline(agent, candidate.last_heartbeat_at, now)], now)
        await self._uow.commit()
        return True

    def _still_stale(self, agent: Agent, candidate: StaleAgent, now: datetime) -> bool:
        """The A7 guard re-checked under the lock, on exactly the heartbeat value that was read."""
        return (
            not agent.is_deleted
            and agent.liveness is Liveness.ONLINE
            and agent.last_heartbeat_at == candidate.last_heartbeat_at
            and now - candidate.last_heartbeat_at > self._timeout
        )
