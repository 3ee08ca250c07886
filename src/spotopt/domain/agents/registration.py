"""What a registering agent process reports (§3.1), and the records a registration creates from it (R-1, R-5 … R-7).

Pitfall 13: after an instance-metadata failure the agent sends ``"unknown"`` placeholders; they are recorded where a
new record needs a value, but never overwrite a known identity fact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import PlacementFacts, is_placeholder
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.sighting import UnattachedSighting
from spotopt.domain.agents.values import InstanceOrigin, InstanceRole
from spotopt.domain.clients.client import Client
from spotopt.domain.shared.ids import AgentId, InstanceId, new_id
from spotopt.domain.shared.pools import Mode, region_of_az

IDENTITY_FIELDS = ("hostname", "agent_version", "private_ip", "public_ip")


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteringProcess:
    """The facts an agent process registers with: its instance and its own identity."""

    instance_type: str
    region: str
    az: str
    mode: Mode = Mode.UNKNOWN
    hostname: str | None = None
    ami_id: str | None = None
    agent_version: str | None = None
    private_ip: str | None = None
    public_ip: str | None = None

    @property
    def placement(self) -> PlacementFacts:
        return PlacementFacts(mode=self.mode, instance_type=self.instance_type, az=self.az, region=self.region)


def refresh_identity(agent: Agent, process: RegisteringProcess) -> None:
    """R-2/R-5/R-6: the process's identity facts replace the agent's, placeholders aside."""
    for name in IDENTITY_FIELDS:
        value = getattr(process, name)
        if value is not None and not is_placeholder(value):
            setattr(agent, name, value)


def new_agent(client: Client, logical_agent_id: str, process: RegisteringProcess, now: datetime) -> Agent:
    """R-1, CL-7: client defaults apply at creation; thresholds are the defaults (DP-17)."""
    agent = Agent(
        agent_id=AgentId(new_id()),
        client_id=client.client_id,
        logical_agent_id=logical_agent_id,
        created_at=now,
        updated_at=now,
        auto_switch_enabled=client.default_auto_switch_enabled,
        auto_terminate_enabled=client.default_auto_terminate_enabled,
        terminate_wait_seconds=client.default_terminate_wait_seconds,
        liveness_changed_at=now,
    )
    refresh_identity(agent, process)
    return agent


def new_instance(
    agent: Agent, iid: InstanceId, process: RegisteringProcess, origin: InstanceOrigin, now: datetime
) -> Instance:
    """The registering process's instance, about to become the agent's primary (R-1, R-5, R-6)."""
    az = process.az
    region = process.region if not is_placeholder(process.region) else region_of_az(az)
    return Instance(
        client_id=agent.client_id,
        instance_id=iid,
        agent_id=agent.agent_id,
        role=InstanceRole.PRIMARY,
        origin=origin,
        instance_type=process.instance_type,
        region=region,
        az=az,
        mode=process.mode,
        first_seen_at=now,
        role_changed_at=now,
        ami_id=process.ami_id,
        private_ip=process.private_ip,
        public_ip=process.public_ip,
        launched_at=now,
        primary_since=now,
        last_seen_at=now,
    )


def reassign(instance: Instance, agent_id: AgentId, process: RegisteringProcess, now: datetime) -> None:
    """R-1: an instance of a deleted agent is re-assigned to the new agent (its history stays with the old one)."""
    instance.agent_id = agent_id
    instance.role = InstanceRole.TERMINATED
    instance.termination_confirmed = False
    instance.terminated_at = None
    instance.termination_reason = None
    instance.origin = InstanceOrigin.REGISTERED
    instance.first_seen_at = now
    instance.last_seen_at = now
    if process.mode is not Mode.UNKNOWN:
        instance.mode = process.mode


def new_sighting(agent: Agent, iid: InstanceId, process: RegisteringProcess, now: datetime) -> UnattachedSighting:
    """R-7: an unknown instance while the primary is live is only recorded."""
    return UnattachedSighting(
        client_id=agent.client_id,
        instance_id=iid,
        agent_id=agent.agent_id,
        first_seen_at=now,
        last_seen_at=now,
        instance_type=process.instance_type,
        region=process.region,
        az=process.az,
        mode=process.mode.value,
        ami_id=process.ami_id,
        private_ip=process.private_ip,
        public_ip=process.public_ip,
    )
