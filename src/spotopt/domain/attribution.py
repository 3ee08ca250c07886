"""Attribution of agent-process calls (domain §2.12 R-1 … R-8, H-1 … H-7, S-2; C-7 live primary; pitfall 13).

Pure decisions: which rule applies to a registration or heartbeat, which switch command an unknown instance or a
switch report belongs to, and how reported instance facts merge into known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from spotopt.domain.agents import HEARTBEAT_TIMEOUT_SECONDS, Agent
from spotopt.domain.commands import Command
from spotopt.domain.errors import InvalidValueError
from spotopt.domain.values import (
    CommandId,
    CommandStatus,
    CommandType,
    ExpectedCause,
    InstanceOrigin,
    InstanceRole,
    KeptReason,
    Liveness,
    Mode,
    ReportedStatus,
    is_instance_id,
    pool_id_for,
)

MATCH_WINDOW = timedelta(minutes=30)
CORRELATION_WINDOW = timedelta(hours=2)
SHUTDOWN_GRACE = timedelta(minutes=30)
PLACEHOLDER = "unknown"
FACT_FIELDS = ("mode", "instance_type", "az", "region")

_Fact = TypeVar("_Fact", bound=str | None)


class RegistrationCase(StrEnum):
    """R-1 … R-7, evaluated in this order."""

    NEW_AGENT = "R-1"
    PRIMARY = "R-2"
    STANDBY = "R-3"
    KEPT_OLD_OR_TERMINATED = "R-4"
    SWITCH_TARGET = "R-5"
    ADOPTION = "R-6"
    UNATTACHED = "R-7"


class HeartbeatCase(StrEnum):
    NOT_FOUND = "H-7"
    PRIMARY = "H-2"
    NON_PRIMARY = "H-3"  # standby or kept-old (a terminated instance too: last_seen_at, IN-6 as in R-4)
    SIGHTING = "H-4"  # update the unattached sighting only
    ADOPTION = "H-4/R-6"  # sighting while the primary is not live
    UNKNOWN_INSTANCE = "H-1/unknown"  # names an instance the agent never registered: no effect on liveness (AG-8)
    IGNORED_SHUTDOWN = "H-5"
    PRIMARY_BY_DEFAULT = "H-5/H-2"


_ROLE_CASES = {
    InstanceRole.PRIMARY: RegistrationCase.PRIMARY,
    InstanceRole.STANDBY: RegistrationCase.STANDBY,
    InstanceRole.KEPT_OLD: RegistrationCase.KEPT_OLD_OR_TERMINATED,
    InstanceRole.TERMINATED: RegistrationCase.KEPT_OLD_OR_TERMINATED,
}


def attribute_registration(
    *,
    agent_exists: bool,
    instance_role: InstanceRole | None,
    matching_switch_command: Command | None,
    primary_is_live: bool,
) -> RegistrationCase:
    """R-1 … R-7 in order; ``instance_role`` None = the instance is unknown to the agent (sightings included)."""
    if not agent_exists:
        return RegistrationCase.NEW_AGENT
    if instance_role is not None:
        return _ROLE_CASES[instance_role]
    if matching_switch_command is not None:
        return RegistrationCase.SWITCH_TARGET
    if not primary_is_live:
        return RegistrationCase.ADOPTION
    return RegistrationCase.UNATTACHED


def is_placeholder(value: str | None) -> bool:
    """Pitfall 13: metadata failures report ``"unknown"``; such values are no facts."""
    return value is None or not value.strip() or value.strip().lower() == PLACEHOLDER


@dataclass(frozen=True, slots=True)
class PlacementFacts:
    """Instance facts as reported or known; placeholders allowed, but they never build a pool id."""

    mode: Mode = Mode.UNKNOWN
    instance_type: str | None = None
    az: str | None = None
    region: str | None = None

    @property
    def pool_id(self) -> str | None:
        return pool_id_for(self.instance_type, self.az) if self.mode is Mode.SPOT else None


@dataclass(frozen=True, slots=True)
class MergedFacts:
    """``corrected`` names the known facts a report changed to another known value (``instance_facts_corrected``)."""

    facts: PlacementFacts
    corrected: tuple[str, ...] = ()


def _pick(known: _Fact, reported: _Fact) -> _Fact:
    return known if is_placeholder(reported) else reported


def merge_facts(known: PlacementFacts | None, reported: PlacementFacts) -> MergedFacts:
    """R-2/H-2/pitfall 13: placeholders never overwrite known facts."""
    if known is None:
        return MergedFacts(reported)
    merged = PlacementFacts(
        mode=_pick(known.mode, reported.mode),
        instance_type=_pick(known.instance_type, reported.instance_type),
        az=_pick(known.az, reported.az),
        region=_pick(known.region, reported.region),
    )
    corrected = tuple(
        name
        for name in FACT_FIELDS
        if not is_placeholder(getattr(known, name)) and getattr(merged, name) != getattr(known, name)
    )
    return MergedFacts(merged, corrected)


def command_targets(command: Command, facts: PlacementFacts) -> bool:
    """R-5/S-2 target match: same mode; for spot the pool's AZ and instance type (placeholders never match)."""
    if command.type is not CommandType.SWITCH or facts.mode is not command.target_mode:
        return False
    if facts.mode is Mode.ONDEMAND:
        return True
    return facts.pool_id is not None and facts.pool_id == command.target_pool_id


def _latest_match(
    commands: Iterable[Command],
    facts: PlacementFacts,
    switched: Collection[CommandId],
    completed_recently: Callable[[timedelta], bool],
    now: datetime,
) -> Command | None:
    """R-5/S-2: the most recent matching switch that is ``delivered`` or recently ``completed`` without a Switch."""

    def eligible(command: Command) -> bool:
        if command.status is CommandStatus.DELIVERED:
            return True
        completed = command.status is CommandStatus.COMPLETED and command.command_id not in switched
        return completed and command.completed_at is not None and completed_recently(now - command.completed_at)

    matches = (c for c in commands if command_targets(c, facts) and eligible(c))
    return max(matches, key=lambda c: (c.created_at, c.command_id), default=None)


def find_matching_switch_command(
    commands: Iterable[Command],
    facts: PlacementFacts,
    now: datetime,
    *,
    switched_command_ids: Collection[CommandId] = frozenset(),
) -> Command | None:
    """R-5: a ``delivered`` switch (any lease state), or one ``completed`` less than 30 min ago without a Switch.

    ``switched_command_ids`` are the commands that already have a Switch record.
    """
    return _latest_match(commands, facts, switched_command_ids, lambda age: age < MATCH_WINDOW, now)


def find_correlated_command(
    commands: Iterable[Command],
    explicit_command_id: str | None,
    facts: PlacementFacts,
    now: datetime,
    switched_command_ids: Collection[CommandId] = frozenset(),
) -> Command | None:
    """S-2: the explicit command if it is one of ``commands`` (the agent's), else as R-5 with a 2 h window."""
    candidates = list(commands)
    explicit = next((c for c in candidates if c.command_id == explicit_command_id), None)
    if explicit is not None:
        return explicit
    return _latest_match(candidates, facts, switched_command_ids, lambda age: age <= CORRELATION_WINDOW, now)


@dataclass(frozen=True, slots=True)
class Takeover:
    """R-5/S-3: the new primary's origin and the old primary's kept-old role (I1, I5, I6)."""

    origin: InstanceOrigin
    kept_reason: KeptReason
    expected_cause: ExpectedCause | None = None
    termination_expected_at: datetime | None = None


def switch_takeover(command: Command | None, *, now: datetime, episode_deadline: datetime | None = None) -> Takeover:
    """R-5/S-3: one answer for both arrival orders (pitfall 2); an unknown deadline counts as ``now``."""
    if command is not None and command.is_emergency:
        deadline = episode_deadline or now
        return Takeover(InstanceOrigin.FALLBACK, KeptReason.AWAITING_TERMINATION, ExpectedCause.INTERRUPTION, deadline)
    if command is not None and command.terminate_wait_seconds > 0:
        expected_at = now + timedelta(seconds=command.terminate_wait_seconds)
        return Takeover(InstanceOrigin.SWITCH, KeptReason.AWAITING_TERMINATION, ExpectedCause.SWITCH, expected_at)
    return Takeover(InstanceOrigin.SWITCH, KeptReason.KEPT)


def primary_is_live(
    agent: Agent,
    primary_episode_deadline: datetime | None,
    now: datetime,
    *,
    heartbeat_timeout_seconds: int = HEARTBEAT_TIMEOUT_SECONDS,
) -> bool:
    """C-7 live primary: a primary, liveness online, heartbeat <= 120 s old, no episode deadline passed."""
    return (
        not agent.is_deleted
        and agent.primary_instance_id is not None
        and agent.liveness is Liveness.ONLINE
        and agent.heartbeat_is_fresh(now, heartbeat_timeout_seconds)
        and (primary_episode_deadline is None or now <= primary_episode_deadline)
    )


def name_heartbeat_instance(instance_id: str | None, monitored_instances: Sequence[str] | None) -> str | None:
    """H-1: ``instance_id``, else the first monitored instance, else none; a non-EC2 id names nothing (IN-5)."""
    first_monitored = monitored_instances[0] if monitored_instances else None
    named = instance_id or first_monitored
    return named if named is not None and is_instance_id(named) else None


def parse_reported_status(value: str | None) -> ReportedStatus:
    """H-6: accepted statuses (default ``online``); anything else is a validation error."""
    if value is None:
        return ReportedStatus.ONLINE
    try:
        return ReportedStatus(value)
    except ValueError:
        raise InvalidValueError("status", "must be online, disabled, offline, switching or error") from None


def primary_liveness(status: ReportedStatus) -> Liveness:
    """H-2: ``offline`` from the primary stops the agent; any other status means online."""
    return Liveness.OFFLINE if status is ReportedStatus.OFFLINE else Liveness.ONLINE


def heartbeat_case(
    *,
    agent_exists: bool,
    named_instance_id: str | None,
    named_role: InstanceRole | None,
    named_is_sighting: bool,
    status: ReportedStatus,
    primary_is_live: bool,
    has_awaiting_termination: bool,
    last_primary_change_at: datetime | None,
    now: datetime,
) -> HeartbeatCase:
    """H-7, then H-5 (nothing named), H-2, H-3, H-4 (adoption via R-6 while the primary is not live)."""
    if not agent_exists:
        return HeartbeatCase.NOT_FOUND
    if named_instance_id is None:
        recent_change = last_primary_change_at is not None and now - last_primary_change_at <= SHUTDOWN_GRACE
        if status is ReportedStatus.OFFLINE and (has_awaiting_termination or recent_change):
            return HeartbeatCase.IGNORED_SHUTDOWN
        return HeartbeatCase.PRIMARY_BY_DEFAULT
    if named_role is InstanceRole.PRIMARY:
        return HeartbeatCase.PRIMARY
    if named_role is not None:
        return HeartbeatCase.NON_PRIMARY
    if not named_is_sighting:
        return HeartbeatCase.UNKNOWN_INSTANCE
    return HeartbeatCase.SIGHTING if primary_is_live else HeartbeatCase.ADOPTION
