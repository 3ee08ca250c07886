"""Domain transition A9, shared by C8 (delete an agent) and M2 (delete a client): an application service.

It runs inside the caller's transaction on an agent the caller has locked (CC-3) and never commits. It implements
the ``AgentRemoval`` port, so the clients feature (below agents) reaches it through the container.
"""

from __future__ import annotations

from datetime import datetime

from spotopt.application.agents.placement import Placement
from spotopt.application.ports.tenants import AgentRemoved
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import TerminationReason
from spotopt.domain.commands.cancellation import cancel_for_deleted
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.lifecycle import RetireReason, retire
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.time import utc_iso

DELETED_REASON = "agent_deleted"


class AgentDeletion:
    def __init__(self, uow: UnitOfWork, placement: Placement) -> None:
        self._uow = uow
        self._placement = placement

    async def delete(self, agent: Agent, now: datetime) -> AgentRemoved:
        """A9 in the CC-2 order: replicas, instances, episodes, commands, then the agent itself."""
        events: list[DomainEvent] = []
        for replica in await self._uow.replicas.list_for_agent(agent.agent_id):
            transition = retire(replica, RetireReason.AGENT_DELETED, now)
            events += [
                notices.plain(agent, e, Severity.WARNING, f"Replica {replica.replica_id}: {e}")
                for e in transition.events
            ]
        running: list[str] = []
        for instance in await self._uow.instances.list_for_agent(agent.agent_id):
            if instance.is_terminated:
                continue
            running.append(instance.instance_id)
            await self._placement.terminate(instance, TerminationReason.AGENT_DELETED, now, now, confirmed=False)
        for episode in await self._uow.episodes.find_open(agent.agent_id):
            episode.close(EpisodeState.SUPERSEDED, now, DELETED_REASON)  # V12
        cancelled = cancel_for_deleted(await self._uow.commands.list_for_agent(agent.agent_id), now)
        # IN-2: no instance is primary any more; the snapshot keeps the last placement facts (AG-4).
        agent.primary_instance_id = None
        agent.delete(now)
        agent.touch(now)
        events.append(_agent_deleted(agent, sorted(running), now))
        return AgentRemoved(
            events=tuple(events),
            instances_possibly_running=tuple(sorted(running)),
            cancelled_command_ids=tuple(c.command_id for c in cancelled),
        )


def _agent_deleted(agent: Agent, running: list[str], now: datetime) -> DomainEvent:
    """§8.2 ``agent_deleted`` with N-agent-deleted listing the instances that may still run."""
    listed = ", ".join(running) if running else "none"
    text = f"Agent {notices.agent_label(agent)} was deleted. Instances that may still be running: {listed}."
    return notices.event(
        agent,
        "agent_deleted",
        Severity.INFO,
        text,
        notify=("agent-deleted", Severity.INFO, "Agent deleted", text),
        dedup=f"agent_deleted:{agent.agent_id}:{utc_iso(now)}",
        instances_possibly_running=running,
    )
