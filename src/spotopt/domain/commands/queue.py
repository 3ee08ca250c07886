"""Command queue rules (domain §2.5 CM-1 … CM-11, §3.4 K1 … K12): creation, hand-out, acknowledgement, sweep.

Pure functions over the agent's commands. They change only the commands they return as changed; the use case
persists those and emits the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from spotopt.domain.commands.command import (
    BASE_LEASE_SECONDS,
    MAX_DELIVERIES,
    AgentCommand,
)
from spotopt.domain.commands.values import CommandStatus, CommandType
from spotopt.domain.shared.errors import RuleConflictError
from spotopt.domain.shared.ids import InstanceId
from spotopt.domain.shared.pools import Mode

PINNED_COMPLETION_AFTER = timedelta(hours=2)
NOT_ACKNOWLEDGED_MESSAGE = "not acknowledged after 3 deliveries"
COMPLETED_WITHOUT_ACK_MESSAGE = "completed without acknowledgement"
LIVE_COMMAND = frozenset({CommandStatus.PENDING, CommandStatus.DELIVERED})


class CancelReason(StrEnum):
    """K3 ``cancel_reason`` vocabulary."""

    EXPIRED = "expired"
    AGENT_DISABLED = "agent_disabled"
    MODE_CHANGED = "mode_changed"
    EMERGENCY_IN_PROGRESS = "emergency_in_progress"
    PRIMARY_CHANGED = "primary_changed"
    ALREADY_IN_TARGET = "already_in_target"
    AGENT_DELETED = "agent_deleted"


@dataclass(frozen=True, slots=True)
class Cancellation:
    command: AgentCommand
    reason: CancelReason


@dataclass(frozen=True, slots=True)
class Delivery:
    """One poll: the command handed out (already delivered, or None) and the heads cancelled on the way."""

    command: AgentCommand | None
    cancelled: tuple[Cancellation, ...] = ()

    @property
    def changed(self) -> tuple[AgentCommand, ...]:
        handed_out = () if self.command is None else (self.command,)
        return tuple(c.command for c in self.cancelled) + handed_out


@dataclass(frozen=True, slots=True)
class AckOutcome:
    """K7/K8/K10: ``changed`` is False for a repeat; ``conflict`` marks a contradicting one (``command_ack_conflict``)."""

    command: AgentCommand
    rule: str
    changed: bool
    conflict: bool = False


@dataclass(frozen=True, slots=True)
class SweepChange:
    command: AgentCommand
    rule: str


def queue_key(command: AgentCommand) -> tuple[int, datetime, str]:
    """CM-4 queue order: priority desc, created_at asc, command_id asc."""
    return (-command.priority, command.created_at, command.command_id)


def next_deliverable(
    commands: Iterable[AgentCommand],
    *,
    now: datetime,
    enabled: bool,
    primary_instance_id: InstanceId | None,
    current_mode: Mode | None,
    current_pool_id: str | None,
    poll_from_non_primary: bool = False,
    base_lease_seconds: int = BASE_LEASE_SECONDS,
) -> Delivery:
    """CM-3/CM-4/K4/K5: hand out at most one command; stale heads are cancelled first (K3, CM-1, CM-10)."""
    live = sorted((c for c in commands if c.status in LIVE_COMMAND), key=queue_key)
    if any(c.holds_lease(now) and not c.lease_pinned for c in live):
        return Delivery(None)
    pinned_in_flight = any(c.holds_lease(now) for c in live)
    cancelled: list[Cancellation] = []
    for command in live:
        if not _may_hand_out(command, now, enabled, pinned_in_flight, poll_from_non_primary):
            continue
        reason = _stale_reason(command, now, primary_instance_id, current_mode, current_pool_id)
        if reason is not None:
            command.cancel(reason, now)
            cancelled.append(Cancellation(command, reason))
            continue
        command.deliver(now, base_lease_seconds)
        return Delivery(command, tuple(cancelled))
    return Delivery(None, tuple(cancelled))


def _may_hand_out(
    command: AgentCommand, now: datetime, enabled: bool, pinned_in_flight: bool, non_primary: bool
) -> bool:
    """K4/K5 candidates, the CM-4 pinned exception, the enabled gate and CM-11."""
    if command.status is CommandStatus.DELIVERED and not (
        _lease_lapsed(command, now) and command.delivery_count < MAX_DELIVERIES
    ):
        return False
    if (pinned_in_flight or not enabled) and not command.is_emergency:
        return False
    return not (non_primary and command.type is CommandType.SWITCH)


def _stale_reason(
    command: AgentCommand, now: datetime, primary: InstanceId | None, mode: Mode | None, pool_id: str | None
) -> CancelReason | None:
    """K3 at delivery: TTL (pending only, K4), CM-10, CM-1.

    A candidate never caused the primary change itself: that evidence (R-5, S-2) pins it, and pinned commands are
    never handed out (CM-9), so CM-10's exception needs no test here.
    """
    if _expired_pending(command, now):
        return CancelReason.EXPIRED
    if command.target_instance_id != primary:
        return CancelReason.PRIMARY_CHANGED
    if command.type is CommandType.SWITCH and command.target_matches(mode, pool_id):
        return CancelReason.ALREADY_IN_TARGET
    return None


# CM-8: the outcome a terminal status stands for; None = never executed, so every acknowledgement contradicts it.
_RECORDED_SUCCESS: dict[CommandStatus, bool | None] = {
    CommandStatus.COMPLETED: True,
    CommandStatus.FAILED: False,
    CommandStatus.CANCELLED: None,
    CommandStatus.SUPERSEDED: None,
}


def acknowledge(
    command: AgentCommand, *, success: bool, message: str | None, result: dict[str, object] | None, now: datetime
) -> AckOutcome:
    """K7/K8 (delivered), K10/CM-8 (terminal: unchanged, contradiction flagged), K11 (pending: conflict)."""
    if command.status is CommandStatus.PENDING:
        raise RuleConflictError("The command was never delivered", code="not_delivered", command_id=command.command_id)
    if command.is_terminal:
        return AckOutcome(command, "K10", changed=False, conflict=_RECORDED_SUCCESS[command.status] is not success)
    if success:
        command.complete(now, message)
    else:
        command.fail(now, message)
    command.acked_at = now
    command.success = success
    command.result = result
    return AckOutcome(command, "K7" if success else "K8", changed=True)


def _expired_pending(command: AgentCommand, now: datetime) -> bool:
    """K3: TTL passed; emergency commands too, but never before their own expires_at."""
    return command.status is CommandStatus.PENDING and command.expires_at <= now


def _lease_lapsed(command: AgentCommand, now: datetime) -> bool:
    """K5/K6: delivered, not pinned, lease over."""
    lease_over = command.lease_expires_at is None or command.lease_expires_at <= now
    return command.status is CommandStatus.DELIVERED and not command.lease_pinned and lease_over


def _unacknowledged(command: AgentCommand, now: datetime) -> bool:
    """K6."""
    return _lease_lapsed(command, now) and command.delivery_count >= MAX_DELIVERIES


def _pinned_too_long(command: AgentCommand, now: datetime) -> bool:
    """K9."""
    pinned_at = command.pinned_at or command.delivered_at
    pinned = command.status is CommandStatus.DELIVERED and command.lease_pinned
    return pinned and pinned_at is not None and now - pinned_at >= PINNED_COMPLETION_AFTER


_SWEEP_RULES: tuple[
    tuple[str, Callable[[AgentCommand, datetime], bool], Callable[[AgentCommand, datetime], None]], ...
] = (
    ("K3", _expired_pending, lambda c, now: c.cancel(CancelReason.EXPIRED, now)),
    ("K6", _unacknowledged, lambda c, now: c.fail(now, NOT_ACKNOWLEDGED_MESSAGE)),
    ("K9", _pinned_too_long, lambda c, now: c.complete(now, COMPLETED_WITHOUT_ACK_MESSAGE)),
)


def sweep(commands: Iterable[AgentCommand], now: datetime) -> list[SweepChange]:
    """Command sweeper: K3 expiry of pending commands, K6, K9; never hands out or cancels a delivered command."""
    changes: list[SweepChange] = []
    for command in sorted(commands, key=queue_key):
        for rule, applies, apply in _SWEEP_RULES:
            if applies(command, now):
                apply(command, now)
                changes.append(SweepChange(command, rule))
                break
    return changes
