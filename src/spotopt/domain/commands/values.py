"""Vocabularies of agent commands (§2.5, §3.4)."""

from __future__ import annotations

from enum import StrEnum


class CommandType(StrEnum):
    SWITCH = "switch"
    CREATE_REPLICA = "create_replica"


class CommandStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


TERMINAL_COMMAND = frozenset(
    {CommandStatus.COMPLETED, CommandStatus.FAILED, CommandStatus.CANCELLED, CommandStatus.SUPERSEDED}
)


class CommandOrigin(StrEnum):
    AUTOMATIC = "automatic"
    API = "api"
    MANUAL = "manual"
    EMERGENCY = "emergency"
