"""Replica and interruption entries of the event catalogue (domain §8.2) as factories (NT-4 keys, NT-7 texts)."""

from __future__ import annotations

from datetime import datetime

from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.notices import agent_label, event, plain
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.time import utc_iso


def replica_created(agent: Agent, replica: Replica) -> DomainEvent:
    message = f"Replica {replica.replica_id} ({replica.kind}) created in {replica.pool_id} by {replica.created_by}"
    return plain(
        agent,
        "replica_created",
        Severity.INFO,
        message,
        instance_id=replica.instance_id,
        replica_id=replica.replica_id,
        episode_id=replica.episode_id,
    )


def replica_ready(agent: Agent, replica: Replica, now: datetime) -> DomainEvent:
    """N-replica-ready notifies only for a manual standby (§8.2 "manual standby ready")."""
    text = f"Standby {replica.replica_id} ({replica.instance_id}, {replica.pool_id}) for {agent_label(agent)} is ready."
    notify = ("replica-ready", Severity.INFO, "Standby ready", text) if replica.kind == "manual" else None
    return event(
        agent,
        "replica_ready",
        Severity.INFO,
        text,
        instance_id=replica.instance_id,
        notify=notify,
        dedup=f"replica_ready:{replica.replica_id}:{utc_iso(now)}",
        replica_id=replica.replica_id,
    )


def replica_failed(agent: Agent, replica: Replica, reason: str, now: datetime) -> DomainEvent:
    text = f"Standby {replica.replica_id} for {agent_label(agent)} failed: {reason}."
    return event(
        agent,
        "replica_failed",
        Severity.WARNING,
        text,
        instance_id=replica.instance_id,
        notify=("replica-failed", Severity.WARNING, "Standby failed", text),
        dedup=f"replica_failed:{replica.replica_id}:{utc_iso(now)}",
        replica_id=replica.replica_id,
    )


def replica_promoted(
    agent: Agent, replica: Replica, old_instance_id: str | None, old_role: str | None, *, notify: bool
) -> DomainEvent:
    """N-replica-promoted on a manual request; on the emergency path ``failover_completed`` notifies instead."""
    text = (
        f"{agent_label(agent)} now runs on {replica.instance_id} in {replica.pool_id}; the previous primary "
        f"{old_instance_id or 'none'} is {old_role or 'gone'}."
    )
    return event(
        agent,
        "replica_promoted",
        Severity.INFO,
        text,
        instance_id=replica.instance_id,
        notify=("replica-promoted", Severity.INFO, "Standby promoted", text) if notify else None,
        dedup=f"replica_promoted:{replica.replica_id}",
        replica_id=replica.replica_id,
        old_instance_id=old_instance_id,
    )


def failover_completed(
    agent: Agent, new_instance_id: str, pool_id: str | None, failover_ms: int | None, *, degraded: bool, late: bool
) -> DomainEvent:
    seconds = round((failover_ms or 0) / 1000)
    text = (
        f"{agent_label(agent)} now runs on {new_instance_id} in {pool_id or 'on-demand'}, {seconds} s after the notice"
        f"{'; the standby was still starting (degraded)' if degraded else ''}"
        f"{'; after the old instance had stopped' if late else ''}."
    )
    return event(
        agent,
        "failover_completed",
        Severity.WARNING,
        text,
        instance_id=new_instance_id,
        notify=("failover-completed", Severity.WARNING, "Failover completed", text),
        dedup=f"failover_completed:{agent.agent_id}:{new_instance_id}",
        failover_ms=failover_ms,
        degraded=degraded,
        late=late,
    )


def failover_failed(agent: Agent, instance_id: str, episode_id: str) -> DomainEvent:
    text = (
        f"{instance_id} was interrupted and no standby took over. Agent {agent_label(agent)} has no running instance."
    )
    return event(
        agent,
        "failover_failed",
        Severity.CRITICAL,
        text,
        instance_id=instance_id,
        notify=("failover-failed", Severity.CRITICAL, "Failover failed", text),
        dedup=f"failover_failed:{episode_id}",
        episode_id=episode_id,
    )


def episode_cleared(agent: Agent, instance_id: str, episode_id: str, replica_id: str | None) -> DomainEvent:
    text = (
        f"No interruption followed the warning for {instance_id} within 2 h; standby {replica_id or 'none'} "
        "was retired."
    )
    return event(
        agent,
        "episode_cleared",
        Severity.INFO,
        text,
        instance_id=instance_id,
        notify=("episode-cleared", Severity.INFO, "Interruption risk cleared", text),
        dedup=f"episode_cleared:{episode_id}",
        episode_id=episode_id,
    )


def rebalance_received(
    agent: Agent, instance_id: str, pool_id: str | None, episode_id: str, replica: Replica | None
) -> DomainEvent:
    text = f"AWS signalled elevated interruption risk for {instance_id} in {pool_id or 'its pool'}. "
    if replica is not None:
        text += f"Standby {replica.replica_id} is being prepared in {replica.pool_id}."
    else:
        text += "No alternative pool is available; the instance has no standby."
    return event(
        agent,
        "rebalance_received",
        Severity.WARNING,
        text,
        instance_id=instance_id,
        notify=("rebalance", Severity.WARNING, "Interruption risk", text),
        dedup=f"rebalance_received:{episode_id}",
        episode_id=episode_id,
    )


def termination_notice(
    agent: Agent, instance_id: str, pool_id: str | None, deadline: datetime, action: str, episode_id: str
) -> DomainEvent:
    text = f"{instance_id} in {pool_id or 'its pool'} will be stopped at {utc_iso(deadline)}. Action: {action}."
    return event(
        agent,
        "termination_notice",
        Severity.CRITICAL,
        text,
        instance_id=instance_id,
        notify=("termination-notice", Severity.CRITICAL, "Spot interruption notice", text),
        dedup=f"termination_notice:{episode_id}",
        episode_id=episode_id,
        action=action,
    )


def ondemand_fallback_queued(agent: Agent, command_id: str, episode_id: str) -> DomainEvent:
    """System event only: the notification is part of N-termination-notice (§8.2)."""
    message = f"Emergency on-demand fallback {command_id} queued for episode {episode_id}"
    return plain(
        agent, "ondemand_fallback_queued", Severity.WARNING, message, command_id=command_id, episode_id=episode_id
    )


def no_standby_pool(agent: Agent, now: datetime) -> DomainEvent:
    """N-no-standby-pool, at most once per agent per day (NT-4 window key)."""
    text = f"No eligible pool for a standby of {agent_label(agent)}; it runs without one."
    return event(
        agent,
        "no_standby_pool",
        Severity.WARNING,
        text,
        notify=("no-standby-pool", Severity.WARNING, "No standby possible", text),
        dedup=f"no_standby_pool:{agent.agent_id}:{now.date().isoformat()}",
    )
