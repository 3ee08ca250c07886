"""Builders of clients, agents, instances and agent requests."""

from __future__ import annotations

import hashlib
from typing import Any

from spotopt.application.agents.record_heartbeat import RecordHeartbeatCommand
from spotopt.application.agents.register_agent import RegisterAgentCommand
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.sighting import UnattachedSighting
from spotopt.domain.agents.values import InstanceOrigin, InstanceRole
from spotopt.domain.clients.client import Client
from spotopt.domain.commands.switch import InstanceFacts
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId, new_id
from spotopt.domain.shared.pools import Mode
from tests.factories.common import LOGICAL, NEW, OLD, T0


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
