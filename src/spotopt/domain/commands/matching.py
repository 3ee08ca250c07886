"""Matching reports to the switch commands they carry out (S-3, R-5 correlation)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.domain.agents.attribution import PlacementFacts
from spotopt.domain.agents.values import (
    ExpectedCause,
    InstanceOrigin,
    KeptReason,
)
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.values import CommandStatus, CommandType
from spotopt.domain.shared.ids import CommandId
from spotopt.domain.shared.pools import Mode


@dataclass(frozen=True, slots=True)
class Takeover:
    """R-5/S-3: the new primary's origin and the old primary's kept-old role (I1, I5, I6)."""

    origin: InstanceOrigin
    kept_reason: KeptReason
    expected_cause: ExpectedCause | None = None
    termination_expected_at: datetime | None = None


def switch_takeover(
    command: AgentCommand | None, *, now: datetime, episode_deadline: datetime | None = None
) -> Takeover:
    """R-5/S-3: one answer for both arrival orders (pitfall 2); an unknown deadline counts as ``now``."""
    if command is not None and command.is_emergency:
        deadline = episode_deadline or now
        return Takeover(InstanceOrigin.FALLBACK, KeptReason.AWAITING_TERMINATION, ExpectedCause.INTERRUPTION, deadline)
    if command is not None and command.terminate_wait_seconds > 0:
        expected_at = now + timedelta(seconds=command.terminate_wait_seconds)
        return Takeover(InstanceOrigin.SWITCH, KeptReason.AWAITING_TERMINATION, ExpectedCause.SWITCH, expected_at)
    return Takeover(InstanceOrigin.SWITCH, KeptReason.KEPT)


MATCH_WINDOW = timedelta(minutes=30)
CORRELATION_WINDOW = timedelta(hours=2)


def command_targets(command: AgentCommand, facts: PlacementFacts) -> bool:
    """R-5/S-2 target match: same mode; for spot the pool's AZ and instance type (placeholders never match)."""
    if command.type is not CommandType.SWITCH or facts.mode is not command.target_mode:
        return False
    if facts.mode is Mode.ONDEMAND:
        return True
    return facts.pool_id is not None and facts.pool_id == command.target_pool_id


def _latest_match(
    commands: Iterable[AgentCommand],
    facts: PlacementFacts,
    switched: Collection[CommandId],
    completed_recently: Callable[[timedelta], bool],
    now: datetime,
) -> AgentCommand | None:
    """R-5/S-2: the most recent matching switch that is ``delivered`` or recently ``completed`` without a Switch."""

    def eligible(command: AgentCommand) -> bool:
        if command.status is CommandStatus.DELIVERED:
            return True
        completed = command.status is CommandStatus.COMPLETED and command.command_id not in switched
        return completed and command.completed_at is not None and completed_recently(now - command.completed_at)

    matches = (c for c in commands if command_targets(c, facts) and eligible(c))
    return max(matches, key=lambda c: (c.created_at, c.command_id), default=None)


def find_matching_switch_command(
    commands: Iterable[AgentCommand],
    facts: PlacementFacts,
    now: datetime,
    *,
    switched_command_ids: Collection[CommandId] = frozenset(),
) -> AgentCommand | None:
    """R-5: a ``delivered`` switch (any lease state), or one ``completed`` less than 30 min ago without a Switch.

    ``switched_command_ids`` are the commands that already have a Switch record.
    """
    return _latest_match(commands, facts, switched_command_ids, lambda age: age < MATCH_WINDOW, now)


def find_correlated_command(
    commands: Iterable[AgentCommand],
    explicit_command_id: str | None,
    facts: PlacementFacts,
    now: datetime,
    switched_command_ids: Collection[CommandId] = frozenset(),
) -> AgentCommand | None:
    """S-2: the explicit command if it is one of ``commands`` (the agent's), else as R-5 with a 2 h window."""
    candidates = list(commands)
    explicit = next((c for c in candidates if c.command_id == explicit_command_id), None)
    if explicit is not None:
        return explicit
    return _latest_match(candidates, facts, switched_command_ids, lambda age: age <= CORRELATION_WINDOW, now)
