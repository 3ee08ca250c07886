"""Which commands a settings change or a deletion cancels (domain §3.4 K3, §3.1 E1/A9, §3.6 M3/M5)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.queue import LIVE_COMMAND, CancelReason
from spotopt.domain.commands.values import CommandOrigin, CommandStatus, CommandType

# M3/M5: leaving auto-switch mode cancels the voluntary commands only (manual and emergency ones stay).
MODE_CANCELLED_ORIGINS = frozenset({CommandOrigin.AUTOMATIC, CommandOrigin.API})


def _pending_switches(commands: Iterable[AgentCommand]) -> list[AgentCommand]:
    return [c for c in commands if c.status is CommandStatus.PENDING and c.type is CommandType.SWITCH]


def cancel_voluntary(commands: Iterable[AgentCommand], now: datetime) -> list[AgentCommand]:
    """M3/M5: pending switches of origin ``automatic``/``api`` → ``cancelled(mode_changed)``."""
    chosen = [c for c in _pending_switches(commands) if c.origin in MODE_CANCELLED_ORIGINS]
    for command in chosen:
        command.cancel(CancelReason.MODE_CHANGED, now)
    return chosen


def cancel_for_disabled(commands: Iterable[AgentCommand], now: datetime) -> list[AgentCommand]:
    """E1/AG-9: pending switches with origin ≠ ``emergency`` → ``cancelled(agent_disabled)``."""
    chosen = [c for c in _pending_switches(commands) if not c.is_emergency]
    for command in chosen:
        command.cancel(CancelReason.AGENT_DISABLED, now)
    return chosen


def cancel_for_deleted(commands: Iterable[AgentCommand], now: datetime) -> list[AgentCommand]:
    """A9: every non-terminal command (pending or delivered, any type) → ``cancelled(agent_deleted)``."""
    chosen = [c for c in commands if c.status in LIVE_COMMAND]
    for command in chosen:
        command.cancel(CancelReason.AGENT_DELETED, now)
    return chosen
