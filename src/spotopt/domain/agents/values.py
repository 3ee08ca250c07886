"""Vocabularies of agents and their instances (§2.2, §2.3, §3.1, §3.2)."""

from __future__ import annotations

from enum import StrEnum


class Lifecycle(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class Liveness(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class ReportedStatus(StrEnum):
    """H-6: heartbeat statuses the server accepts."""

    ONLINE = "online"
    DISABLED = "disabled"
    OFFLINE = "offline"
    SWITCHING = "switching"
    ERROR = "error"


class InstanceRole(StrEnum):
    PRIMARY = "primary"
    STANDBY = "standby"
    KEPT_OLD = "kept_old"
    TERMINATED = "terminated"


class KeptReason(StrEnum):
    KEPT = "kept"
    AWAITING_TERMINATION = "awaiting_termination"
    TERMINATION_REQUESTED = "termination_requested"


class ExpectedCause(StrEnum):
    SWITCH = "switch"
    INTERRUPTION = "interruption"


class InstanceOrigin(StrEnum):
    REGISTERED = "registered"
    SWITCH = "switch"
    REPLICA = "replica"
    ADOPTED = "adopted"
    FALLBACK = "fallback"


class TerminationReason(StrEnum):
    SWITCHED_AWAY = "switched_away"
    INTERRUPTED = "interrupted"
    REPORTED = "reported"
    PRESUMED_GONE = "presumed_gone"
    AGENT_DELETED = "agent_deleted"
    RETIRED = "retired"
