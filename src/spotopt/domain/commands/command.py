"""Command aggregate (domain §2.5, §3.4): instructions pulled by the agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.domain.commands.values import TERMINAL_COMMAND, CommandOrigin, CommandStatus, CommandType
from spotopt.domain.shared.ids import AgentId, ClientId, CommandId, EpisodeId, InstanceId
from spotopt.domain.shared.pools import Mode

BASE_LEASE_SECONDS = 120
SWITCH_BUDGET_SECONDS = 300
TERMINATION_BUDGET_SECONDS = 300
CREATE_REPLICA_BUDGET_SECONDS = 600
MAX_DELIVERIES = 3

PRIORITY_EMERGENCY = 100
PRIORITY_MANUAL = 75
PRIORITY_RISK = 50
PRIORITY_SAVINGS = 25
PRIORITY_RETURN_TO_SPOT = 25
PRIORITY_SCHEDULED = 10

TTL = {
    CommandOrigin.AUTOMATIC: timedelta(minutes=15),
    CommandOrigin.API: timedelta(hours=1),
    CommandOrigin.MANUAL: timedelta(hours=24),
}


@dataclass(eq=False, slots=True)
class AgentCommand:
    command_id: CommandId
    client_id: ClientId
    agent_id: AgentId
    type: CommandType
    target_mode: Mode
    target_pool_id: str | None
    terminate_wait_seconds: int
    priority: int
    origin: CommandOrigin
    target_instance_id: InstanceId | None
    created_at: datetime
    expires_at: datetime
    status: CommandStatus = CommandStatus.PENDING
    motive: str | None = None
    reason: str | None = None
    decision_id: str | None = None
    episode_id: EpisodeId | None = None
    idempotency_key: str | None = None
    delivered_at: datetime | None = None
    lease_expires_at: datetime | None = None
    delivery_count: int = 0
    lease_pinned: bool = False
    pinned_at: datetime | None = None
    acked_at: datetime | None = None
    success: bool | None = None
    message: str | None = None
    result: dict[str, object] | None = None
    completed_at: datetime | None = None
    superseded_by: CommandId | None = None
    superseded_command_id: CommandId | None = None
    cancel_reason: str | None = None
    cancelled_at: datetime | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AgentCommand) and other.command_id == self.command_id

    def __hash__(self) -> int:
        return hash(self.command_id)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_COMMAND

    @property
    def is_emergency(self) -> bool:
        return self.origin is CommandOrigin.EMERGENCY

    def lease_duration(self, base_lease_seconds: int = BASE_LEASE_SECONDS) -> timedelta:
        """CM-3 lease formula."""
        if self.type is CommandType.CREATE_REPLICA:
            return timedelta(seconds=base_lease_seconds + CREATE_REPLICA_BUDGET_SECONDS)
        seconds = base_lease_seconds + SWITCH_BUDGET_SECONDS
        if self.terminate_wait_seconds > 0:
            seconds += self.terminate_wait_seconds + TERMINATION_BUDGET_SECONDS
        return timedelta(seconds=seconds)

    def holds_lease(self, now: datetime) -> bool:
        """CM-4: a delivered command with an unexpired or pinned lease keeps the queue closed."""
        if self.status is not CommandStatus.DELIVERED:
            return False
        return self.lease_pinned or (self.lease_expires_at is not None and self.lease_expires_at > now)

    def target_matches(self, mode: Mode | None, pool_id: str | None) -> bool:
        """K3/CM-1: does a placement equal this command's target?"""
        if self.target_mode is Mode.ONDEMAND:
            return mode is Mode.ONDEMAND
        return mode is Mode.SPOT and pool_id == self.target_pool_id

    def deliver(self, now: datetime, base_lease_seconds: int = BASE_LEASE_SECONDS) -> None:
        """K4/K5."""
        if self.delivered_at is None:
            self.delivered_at = now
        self.status = CommandStatus.DELIVERED
        self.lease_expires_at = now + self.lease_duration(base_lease_seconds)
        self.delivery_count += 1

    def pin(self, now: datetime) -> None:
        """CM-9: evidence of execution; never handed out again."""
        if not self.lease_pinned:
            self.lease_pinned = True
            self.pinned_at = now

    def cancel(self, reason: str, now: datetime) -> None:
        self.status = CommandStatus.CANCELLED
        self.cancel_reason = reason
        self.cancelled_at = now
        self.completed_at = now

    def supersede(self, by: CommandId, now: datetime) -> None:
        """K2."""
        self.status = CommandStatus.SUPERSEDED
        self.superseded_by = by
        self.completed_at = now

    def complete(self, now: datetime, message: str | None) -> None:
        self.status = CommandStatus.COMPLETED
        self.completed_at = now
        self.message = message

    def fail(self, now: datetime, message: str | None) -> None:
        self.status = CommandStatus.FAILED
        self.completed_at = now
        self.message = message
