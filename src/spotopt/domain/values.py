"""Value objects, identifiers and vocabularies shared by every aggregate."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import NewType

from spotopt.domain.errors import InvalidValueError

ClientId = NewType("ClientId", str)
AgentId = NewType("AgentId", str)
CommandId = NewType("CommandId", str)
ReplicaId = NewType("ReplicaId", str)
EpisodeId = NewType("EpisodeId", str)
SwitchId = NewType("SwitchId", str)
ReportId = NewType("ReportId", str)
InstanceId = NewType("InstanceId", str)

PRICE_QUANTUM = Decimal("0.000001")
MONEY_QUANTUM = Decimal("0.00000001")
MAX_PRICE = Decimal(1000)

_INSTANCE_ID = re.compile(r"^i-([0-9a-f]{8}|[0-9a-f]{17})$")


def new_id() -> str:
    """A server-generated identifier: UUID v4, lowercase canonical form (C-5)."""
    return str(uuid.uuid4())


def is_instance_id(value: str) -> bool:
    """IN-5: ``i-`` followed by exactly 8 or 17 lowercase hex digits."""
    return bool(_INSTANCE_ID.match(value))


def instance_id(value: str) -> InstanceId:
    if not is_instance_id(value):
        raise InvalidValueError("instance_id", "must be an EC2 instance id (i- and 8 or 17 lowercase hex digits)")
    return InstanceId(value)


def round_price(value: Decimal) -> Decimal:
    """C-3: prices carry 6 decimal places."""
    return value.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)


def round_money(value: Decimal) -> Decimal:
    """C-3: ledger amounts carry 8 decimal places, rounded half-to-even."""
    return value.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


def utc(value: datetime) -> datetime:
    """Normalise a datetime to aware UTC (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Mode(StrEnum):
    SPOT = "spot"
    ONDEMAND = "ondemand"
    UNKNOWN = "unknown"


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


class ClientStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


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


class ReplicaKind(StrEnum):
    MANUAL = "manual"
    AUTOMATIC_REBALANCE = "automatic-rebalance"
    AUTOMATIC_TERMINATION = "automatic-termination"


class ReplicaStatus(StrEnum):
    LAUNCHING = "launching"
    SYNCING = "syncing"
    READY = "ready"
    PROMOTED = "promoted"
    TERMINATED = "terminated"
    FAILED = "failed"


NON_TERMINAL_REPLICA = frozenset({ReplicaStatus.LAUNCHING, ReplicaStatus.SYNCING, ReplicaStatus.READY})


class SyncStatus(StrEnum):
    INITIALIZING = "initializing"
    SYNCING = "syncing"
    SYNCED = "synced"
    OUT_OF_SYNC = "out-of-sync"


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


class EpisodeState(StrEnum):
    AT_RISK = "at_risk"
    TERMINATING = "terminating"
    FAILED_OVER = "failed_over"
    CLEARED = "cleared"
    LOST = "lost"
    SUPERSEDED = "superseded"


OPEN_EPISODE = frozenset({EpisodeState.AT_RISK, EpisodeState.TERMINATING})


class SignalKind(StrEnum):
    REBALANCE = "rebalance"
    TERMINATION = "termination"


class AttributedRole(StrEnum):
    PRIMARY = "primary"
    STANDBY = "standby"
    KEPT_OLD = "kept_old"
    UNKNOWN = "unknown"


class SourceType(StrEnum):
    """§4.1 source types with their priority and confidence."""

    PRIMARY = "primary"
    REPLICA_AUTOMATIC = "replica-automatic"
    REPLICA_MANUAL = "replica-manual"
    SECONDARY = "secondary"
    INTERPOLATED = "interpolated"

    @property
    def priority(self) -> int:
        return _SOURCE_PRIORITY[self]

    @property
    def confidence(self) -> Decimal:
        return _SOURCE_CONFIDENCE[self]


_SOURCE_PRIORITY = {
    SourceType.PRIMARY: 5,
    SourceType.REPLICA_AUTOMATIC: 4,
    SourceType.REPLICA_MANUAL: 3,
    SourceType.SECONDARY: 2,
    SourceType.INTERPOLATED: 1,
}
_SOURCE_CONFIDENCE = {
    SourceType.PRIMARY: Decimal("1.00"),
    SourceType.REPLICA_AUTOMATIC: Decimal("0.95"),
    SourceType.REPLICA_MANUAL: Decimal("0.95"),
    SourceType.SECONDARY: Decimal("0.90"),
    SourceType.INTERPOLATED: Decimal("0.70"),
}


@dataclass(frozen=True, slots=True)
class PoolId:
    """A spot pool ``<instance_type>.<az>``; the AZ is the text after the last ``.`` (PR-32)."""

    instance_type: str
    az: str

    def __post_init__(self) -> None:
        if not self.instance_type or not self.az or self.instance_type == "unknown" or self.az == "unknown":
            raise InvalidValueError("pool_id", "a pool needs a known instance type and availability zone")

    @classmethod
    def parse(cls, value: str) -> PoolId:
        type_part, sep, az = value.rpartition(".")
        if not sep:
            raise InvalidValueError("pool_id", "must be <instance_type>.<az>")
        return cls(type_part, az)

    @property
    def region(self) -> str:
        return region_of_az(self.az)

    @property
    def name(self) -> str:
        """PR-34 display name."""
        return f"{self.instance_type} ({self.az})"

    def __str__(self) -> str:
        return f"{self.instance_type}.{self.az}"


def region_of_az(az: str) -> str:
    """``us-east-1a`` → ``us-east-1`` (strip the zone letter suffix)."""
    return az.rstrip("abcdefghijklmnopqrstuvwxyz") if az and az[-1].isalpha() else az


def pool_id_for(instance_type: str | None, az: str | None) -> str | None:
    """Pool id for known facts, never built from placeholders (pitfall 13)."""
    if not instance_type or not az or instance_type == "unknown" or az == "unknown":
        return None
    return f"{instance_type}.{az}"
