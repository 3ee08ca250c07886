"""The heartbeat that only refreshes liveness (H-2 with nothing to decide): the fast path's rule, kept here.

Most heartbeats come from the primary process of an online agent and repeat what is known. For those, H-2's
effects reduce to three assignments: the agent's heartbeat time and reported status, the primary's last seen time.
``plain_refresh`` says from the request alone whether a heartbeat can be one (no ``offline`` or ``error`` status,
an instance named, facts that either are placeholders or can be compared exactly); ``refresh_applies`` says whether
the stored state lets it be one. A persistence adapter may evaluate the second as the conditions of one statement;
whenever they do not hold, the full rule (``RecordHeartbeat``) decides instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import is_placeholder, name_heartbeat_instance
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceRole, Lifecycle, Liveness, ReportedStatus
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.pools import Mode

# H-6: ``offline`` may stop the agent (A6) and ``error`` emits an event; the others only refresh.
REFRESH_STATUSES = frozenset({ReportedStatus.ONLINE, ReportedStatus.DISABLED, ReportedStatus.SWITCHING})


@dataclass(frozen=True, slots=True, kw_only=True)
class LivenessRefresh:
    """A heartbeat that may only refresh liveness; ``expected`` holds the reported facts the primary must match
    (placeholders are left out: pitfall 13, they never change known facts).
    """

    client_id: ClientId
    agent_id: str
    instance_id: str
    status: ReportedStatus
    now: datetime
    expected: tuple[tuple[str, str], ...] = ()


def plain_refresh(
    *,
    client_id: ClientId,
    agent_id: str,
    status: ReportedStatus,
    instance_id: str | None,
    monitored_instances: list[str],
    mode: Mode | None,
    instance_type: str | None,
    az: str | None,
    now: datetime,
) -> LivenessRefresh | None:
    """The request side: None when only the full rule can decide (nothing named, H-5; a status with effects)."""
    named = name_heartbeat_instance(instance_id, monitored_instances)
    if named is None or status not in REFRESH_STATUSES:
        return None
    expected: list[tuple[str, str]] = []
    for name, value in (("mode", mode.value if mode else None), ("instance_type", instance_type), ("az", az)):
        if is_placeholder(value):
            continue
        assert value is not None  # noqa: S101 - is_placeholder(None) is True
        if value != value.strip():
            return None  # merged as reported, and a database compares padded strings loosely: the full rule decides
        expected.append((name, value))
    return LivenessRefresh(
        client_id=client_id, agent_id=agent_id, instance_id=named, status=status, now=now, expected=tuple(expected)
    )


def refresh_applies(refresh: LivenessRefresh, agent: Agent | None, instance: Instance | None) -> bool:
    """The stored side: an active, online agent of the client whose heartbeat time is not ahead of ``now`` (H-2
    keeps the maximum), and the named instance is its primary with the reported facts (so no correction, AG-4).
    """
    if agent is None or instance is None:
        return False
    facts = {"mode": instance.mode.value, "instance_type": instance.instance_type, "az": instance.az}
    return (
        agent.client_id == refresh.client_id
        and agent.agent_id == refresh.agent_id
        and agent.lifecycle is Lifecycle.ACTIVE
        and agent.liveness is Liveness.ONLINE
        and (agent.last_heartbeat_at is None or agent.last_heartbeat_at <= refresh.now)
        and instance.client_id == refresh.client_id
        and instance.instance_id == refresh.instance_id
        and instance.agent_id == agent.agent_id
        and instance.role is InstanceRole.PRIMARY
        and all(facts[name] == value for name, value in refresh.expected)
    )


def apply_refresh(refresh: LivenessRefresh, agent: Agent, instance: Instance) -> None:
    """H-2's effects when ``refresh_applies``: what the one conditional statement writes."""
    agent.last_heartbeat_at = refresh.now
    agent.reported_status = refresh.status
    instance.last_seen_at = refresh.now
