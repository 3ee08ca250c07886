"""Planning switch commands: idempotency, priorities and expiry (CM-1, CM-5, CM-6, DP-17)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.domain.agents.agent import Agent
from spotopt.domain.commands.command import (
    PRIORITY_EMERGENCY,
    PRIORITY_MANUAL,
    PRIORITY_RETURN_TO_SPOT,
    PRIORITY_RISK,
    PRIORITY_SAVINGS,
    PRIORITY_SCHEDULED,
    TTL,
    AgentCommand,
)
from spotopt.domain.commands.queue import queue_key
from spotopt.domain.commands.values import CommandOrigin, CommandStatus, CommandType
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError
from spotopt.domain.shared.ids import CommandId, EpisodeId, new_id
from spotopt.domain.shared.pools import Mode, PoolId

EMERGENCY_TTL_AFTER_DEADLINE = timedelta(seconds=60)
API_PRIORITY_DEFAULT = 25
API_PRIORITY_MAX = PRIORITY_MANUAL
AUTOMATIC_PRIORITY_MAX = PRIORITY_MANUAL - 1
AUTOMATIC_PRIORITY_BY_MOTIVE = {
    "risk": PRIORITY_RISK,
    "savings": PRIORITY_SAVINGS,
    "return_to_spot": PRIORITY_RETURN_TO_SPOT,
    "scheduled": PRIORITY_SCHEDULED,
}


@dataclass(frozen=True, slots=True)
class SwitchPlan:
    """K1: the command to persist (or the existing one on a CM-7 replay) and the pending ones it superseded."""

    command: AgentCommand
    created: bool
    superseded: tuple[AgentCommand, ...] = ()


def plan_switch(
    existing_commands: Iterable[AgentCommand],
    new_command: AgentCommand,
    *,
    current_mode: Mode | None,
    current_pool_id: str | None,
) -> SwitchPlan:
    """K1: CM-7 replay, CM-1 (target ≠ placement), CM-2 (supersede or refuse); mutates only on success."""
    if new_command.type is not CommandType.SWITCH:
        raise InvalidValueError("type", "plan_switch plans switch commands only")
    others = [c for c in existing_commands if c.agent_id == new_command.agent_id and c != new_command]
    replay = _same_idempotency_key(others, new_command.idempotency_key)
    if replay is not None:
        return SwitchPlan(replay, created=False)
    if new_command.target_matches(current_mode, current_pool_id):
        raise RuleConflictError("The target is the current placement", code="already_in_target")
    switches = sorted((c for c in others if c.type is CommandType.SWITCH), key=queue_key)
    delivered = [c for c in switches if c.status is CommandStatus.DELIVERED]
    # The emergency fallback must be queued even beside a delivered switch; CM-4 keeps it from running concurrently.
    if delivered and not new_command.is_emergency:
        raise RuleConflictError(
            "A switch is being executed", code="switch_in_flight", command_id=delivered[0].command_id
        )
    pending = [c for c in switches if c.status is CommandStatus.PENDING]
    if pending and pending[0].priority > new_command.priority:
        raise RuleConflictError(
            "A pending switch has a higher priority",
            code="switch_pending",
            command_id=pending[0].command_id,
            priority=pending[0].priority,
        )
    for old in pending:
        old.supersede(new_command.command_id, new_command.created_at)
    if pending:
        new_command.superseded_command_id = pending[0].command_id
    return SwitchPlan(new_command, created=True, superseded=tuple(pending))


def _same_idempotency_key(commands: Iterable[AgentCommand], key: str | None) -> AgentCommand | None:
    """CM-7."""
    if key is None:
        return None
    return next((c for c in commands if c.idempotency_key == key), None)


def make_switch_command(
    agent: Agent,
    *,
    origin: CommandOrigin,
    target_mode: Mode,
    target_pool_id: str | None,
    now: datetime,
    priority: int | None = None,
    motive: str | None = None,
    reason: str | None = None,
    decision_id: str | None = None,
    episode_id: EpisodeId | None = None,
    idempotency_key: str | None = None,
    deadline: datetime | None = None,
    command_id: CommandId | None = None,
) -> AgentCommand:
    """K1 factory: CM-1 target shape, CM-5 wait, §2.5 priorities, K1 TTL (emergency: ``deadline`` + 60 s)."""
    return AgentCommand(
        command_id=command_id or CommandId(new_id()),
        client_id=agent.client_id,
        agent_id=agent.agent_id,
        type=CommandType.SWITCH,
        target_mode=target_mode,
        target_pool_id=_target_pool(target_mode, target_pool_id),
        terminate_wait_seconds=0 if origin is CommandOrigin.EMERGENCY else agent.effective_terminate_wait,
        priority=_priority(origin, priority, motive),
        origin=origin,
        target_instance_id=agent.primary_instance_id,
        created_at=now,
        expires_at=_expires_at(origin, now, deadline),
        motive=motive,
        reason=reason,
        decision_id=decision_id,
        episode_id=episode_id,
        idempotency_key=idempotency_key,
    )


def _target_pool(target_mode: Mode, target_pool_id: str | None) -> str | None:
    """CM-1: spot names a pool, on-demand names none."""
    if target_mode is Mode.ONDEMAND:
        if target_pool_id is not None:
            raise InvalidValueError("target_pool_id", "an on-demand target names no pool")
        return None
    if target_mode is not Mode.SPOT:
        raise InvalidValueError("target_mode", "must be spot or ondemand")
    if not target_pool_id:
        raise InvalidValueError("target_pool_id", "a spot target needs a pool")
    return str(PoolId.parse(target_pool_id))


def _priority(origin: CommandOrigin, priority: int | None, motive: str | None) -> int:
    """§2.5 priorities; evaluator commands stay below a manual override (pitfalls decision)."""
    fixed = {CommandOrigin.EMERGENCY: PRIORITY_EMERGENCY, CommandOrigin.MANUAL: PRIORITY_MANUAL}.get(origin)
    if fixed is not None:
        if priority not in (None, fixed):
            raise InvalidValueError("priority", f"{origin} commands have priority {fixed}")
        return fixed
    if origin is CommandOrigin.API:
        value, highest = (API_PRIORITY_DEFAULT if priority is None else priority), API_PRIORITY_MAX
    else:
        value = AUTOMATIC_PRIORITY_BY_MOTIVE.get(motive or "", PRIORITY_SAVINGS) if priority is None else priority
        highest = AUTOMATIC_PRIORITY_MAX
    if not 1 <= value <= highest:
        raise InvalidValueError("priority", f"must be between 1 and {highest}")
    return value


def _expires_at(origin: CommandOrigin, now: datetime, deadline: datetime | None) -> datetime:
    """K1 TTL."""
    if origin is not CommandOrigin.EMERGENCY:
        return now + TTL[origin]
    if deadline is None:
        raise InvalidValueError("deadline", "an emergency command expires at the episode deadline + 60 s")
    return deadline + EMERGENCY_TTL_AFTER_DEADLINE
