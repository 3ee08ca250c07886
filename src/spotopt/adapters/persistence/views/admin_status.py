"""The agent display status (domain §3.1) as one SQL expression, so M9 and M12 can filter and show it in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, exists, false, or_, select

from spotopt.adapters.persistence.models.agents import AgentModel
from spotopt.adapters.persistence.models.commands import CommandModel
from spotopt.adapters.persistence.models.interruptions import EpisodeModel
from spotopt.domain.agents.display_status import DisplayStatus
from spotopt.domain.agents.values import Lifecycle, Liveness, ReportedStatus
from spotopt.domain.commands.values import CommandStatus, CommandType
from spotopt.domain.interruptions.values import EpisodeState

A, C, E = AgentModel, CommandModel, EpisodeModel


def switching_expr() -> Any:
    """A delivered, unfinished switch command (index ``agent_id, status``) or a terminating episode."""
    delivered = exists(
        select(C.command_id).where(
            C.agent_id == A.agent_id, C.status == CommandStatus.DELIVERED.value, C.type == CommandType.SWITCH.value
        )
    )
    terminating = exists(
        select(E.episode_id).where(E.agent_id == A.agent_id, E.state == EpisodeState.TERMINATING.value)
    )
    return or_(delivered, terminating)


def display_status_expr() -> Any:
    """The same first-match rules as ``domain.agents.display.display_status``."""
    return case(
        (A.lifecycle == Lifecycle.DELETED.value, DisplayStatus.DELETED.value),
        (A.liveness == Liveness.OFFLINE.value, DisplayStatus.OFFLINE.value),
        (switching_expr(), DisplayStatus.SWITCHING.value),
        (A.enabled == false(), DisplayStatus.DISABLED.value),
        (A.reported_status == ReportedStatus.ERROR.value, DisplayStatus.ERROR.value),
        else_=DisplayStatus.ONLINE.value,
    )
