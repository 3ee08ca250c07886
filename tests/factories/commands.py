"""Builders of commands and switch records."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from spotopt.application.commands.report_switch import ReportSwitchCommand
from spotopt.domain.agents.agent import Agent
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch import Switch, SwitchTiming
from spotopt.domain.commands.switch_planning import make_switch_command
from spotopt.domain.commands.values import CommandOrigin
from spotopt.domain.shared.ids import SwitchId, new_id
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_facts
from tests.factories.common import NEW, NEW_POOL, OLD, T0


def make_command(agent: Agent, **overrides: Any) -> AgentCommand:
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
