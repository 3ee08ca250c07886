"""The event catalogue of domain §8.2 as factories (NT-4 dedup keys, NT-7 templates)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from spotopt.domain.agents.agent import Agent
from spotopt.domain.shared.events import DomainEvent, NotificationSpec, Severity
from spotopt.domain.shared.time import utc_iso


def agent_label(agent: Agent) -> str:
    """NT-7: ``{agent}`` is the hostname if known, else the logical agent id."""
    return agent.hostname or agent.logical_agent_id


def rate(value: Decimal | None) -> str:
    """NT-7: rates as ``$0.0285/h``."""
    return "unknown" if value is None else f"${value:.4f}/h"


def placement(mode: str | None, instance_type: str | None, az: str | None, pool_id: str | None) -> str:
    """NT-7: ``spot t3.medium.us-east-1a`` or ``on-demand t3.medium us-east-1a``."""
    if mode == "spot" and pool_id:
        return f"spot {pool_id}"
    return f"on-demand {instance_type or 'unknown'} {az or 'unknown'}"


def event(
    agent: Agent,
    type_: str,
    severity: Severity,
    message: str,
    *,
    instance_id: str | None = None,
    notify: tuple[str, Severity, str, str] | None = None,
    dedup: str | None = None,
    metadata: dict[str, object] | None = None,
    **extra: object,
) -> DomainEvent:
    """A domain event of ``agent``; ``notify`` = (catalogue name, severity, title, message) adds the notification."""
    spec = None
    if notify is not None:
        name, n_severity, title, text = notify
        spec = NotificationSpec(name, n_severity, title, text, dedup or f"{type_}:{agent.agent_id}:{message}")
    return DomainEvent(
        type=type_,
        severity=severity,
        message=message,
        client_id=agent.client_id,
        agent_id=agent.agent_id,
        instance_id=instance_id,
        metadata={**(metadata or {}), **extra},
        notification=spec,
    )


def agent_registered(agent: Agent, instance_id: str, where: str, now: datetime) -> DomainEvent:
    text = f"Agent {agent_label(agent)} registered on {instance_id} ({where})."
    return event(
        agent,
        "agent_registered",
        Severity.INFO,
        text,
        instance_id=instance_id,
        notify=("agent-registered", Severity.INFO, "New agent registered", text),
        dedup=f"agent_registered:{agent.agent_id}:{utc_iso(now)}",
    )


def logical_id_is_instance_id(agent: Agent, instance_id: str) -> DomainEvent:
    text = (
        f"Agent {agent_label(agent)} uses its instance id as logical agent id; every switch would create a new "
        "agent. Configure a stable logical agent id."
    )
    return event(
        agent,
        "logical_id_is_instance_id",
        Severity.WARNING,
        text,
        instance_id=instance_id,
        notify=("logical-id", Severity.WARNING, "Agent identity will not survive switches", text),
        dedup=f"logical_id_is_instance_id:{agent.agent_id}",
    )


def agent_online(agent: Agent, offline_since: datetime | None, now: datetime, *, notify: bool) -> DomainEvent:
    seconds = int((now - offline_since).total_seconds()) if offline_since else 0
    text = f"Agent {agent_label(agent)} is sending heartbeats again after {seconds} s."
    return event(
        agent,
        "agent_online",
        Severity.INFO,
        text,
        notify=("agent-back-online", Severity.INFO, "Agent back online", text) if notify else None,
        dedup=f"agent_online:{agent.agent_id}:{utc_iso(now)}",
    )


def agent_stopped(agent: Agent, instance_id: str | None, now: datetime) -> DomainEvent:
    text = f"Agent {agent_label(agent)} on {instance_id or 'its instance'} reported that it stopped."
    return event(
        agent,
        "agent_stopped",
        Severity.INFO,
        text,
        instance_id=instance_id,
        notify=("agent-stopped", Severity.WARNING, "Agent stopped", text),
        dedup=f"agent_stopped:{agent.agent_id}:{utc_iso(now)}",
    )


def primary_adopted(agent: Agent, instance_id: str, old_instance_id: str | None, now: datetime) -> DomainEvent:
    text = (
        f"Agent {agent_label(agent)} now runs on {instance_id}; the previous instance "
        f"{old_instance_id or 'none'} is presumed gone."
    )
    return event(
        agent,
        "primary_adopted",
        Severity.WARNING,
        text,
        instance_id=instance_id,
        notify=("primary-adopted", Severity.WARNING, "Agent moved to a new instance", text),
        dedup=f"primary_adopted:{agent.agent_id}:{instance_id}",
        metadata={"at": utc_iso(now)},
    )


def unattached_instance(agent: Agent, instance_id: str, now: datetime) -> DomainEvent:
    text = (
        f"Instance {instance_id} registered as {agent_label(agent)} while {agent.primary_instance_id} is the "
        "primary. It is tracked but not used."
    )
    return event(
        agent,
        "unattached_instance",
        Severity.WARNING,
        text,
        instance_id=instance_id,
        notify=("unattached", Severity.WARNING, "Unknown instance for agent", text),
        dedup=f"unattached_instance:{instance_id}:{now.date().isoformat()}",
    )


def terminate_instance_requested(
    agent: Agent, instance_id: str, where: str, reason: str, price: Decimal | None, now: datetime
) -> DomainEvent:
    text = (
        f"Instance {instance_id} ({where}) of {agent_label(agent)} is no longer needed ({reason}) and costs about "
        f"{rate(price)}. Terminate it unless your agent does so automatically."
    )
    return event(
        agent,
        "instance_termination_requested",
        Severity.WARNING,
        text,
        instance_id=instance_id,
        notify=("terminate-instance", Severity.WARNING, "Please terminate an instance", text),
        dedup=f"instance_termination_requested:{instance_id}:{utc_iso(now)}",
    )


def switch_completed(
    agent: Agent, old_id: str, old_where: str, new_id: str, new_where: str, saving: Decimal | None, now: datetime
) -> DomainEvent:
    text = (
        f"{agent_label(agent)} moved from {old_id} ({old_where}) to {new_id} ({new_where}). Saving against "
        f"on-demand is now {rate(saving)}."
    )
    return event(
        agent,
        "switch_completed",
        Severity.INFO,
        text,
        instance_id=new_id,
        notify=("switch-completed", Severity.INFO, "Switch completed", text),
        dedup=f"switch_completed:{agent.agent_id}:{new_id}",
        metadata={"at": utc_iso(now)},
    )


def switch_failed(agent: Agent, target: str, message: str, command_id: str) -> DomainEvent:
    text = f"{agent_label(agent)}: switch to {target} failed: {message}."
    return event(
        agent,
        "switch_failed",
        Severity.WARNING,
        text,
        notify=("switch-failed", Severity.WARNING, "Switch failed", text),
        dedup=f"switch_failed:{command_id}",
        metadata={"command_id": command_id},
    )


def plain(agent: Agent, type_: str, severity: Severity, message: str, **metadata: object) -> DomainEvent:
    """A system event without a client notification."""
    instance_id = metadata.pop("instance_id", None)
    iid = str(instance_id) if instance_id else None
    return event(agent, type_, severity, message, instance_id=iid, metadata=metadata)
