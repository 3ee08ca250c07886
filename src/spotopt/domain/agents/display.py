"""The agent's display ``status`` (domain §3.1, api B.1): derived, never stored, first match wins."""

from __future__ import annotations

from enum import StrEnum

from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import Lifecycle, Liveness, ReportedStatus


class DisplayStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    SWITCHING = "switching"
    DISABLED = "disabled"
    ERROR = "error"
    DELETED = "deleted"


def display_status(agent: Agent, *, switching: bool) -> DisplayStatus:
    """``switching``: a switch command of the agent is delivered and unfinished, or an episode is terminating."""
    if agent.lifecycle is Lifecycle.DELETED:
        return DisplayStatus.DELETED
    if agent.liveness is Liveness.OFFLINE:
        return DisplayStatus.OFFLINE
    if switching:
        return DisplayStatus.SWITCHING
    if not agent.enabled:
        return DisplayStatus.DISABLED
    if agent.reported_status is ReportedStatus.ERROR:
        return DisplayStatus.ERROR
    return DisplayStatus.ONLINE
