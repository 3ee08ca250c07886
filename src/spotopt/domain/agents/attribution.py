"""Attribution of agent-process calls (domain §2.12 R-1 … R-8, H-1 … H-7, S-2; C-7 live primary; pitfall 13).

Pure decisions: which rule applies to a registration or heartbeat, which switch command an unknown instance or a
switch report belongs to, and how reported instance facts merge into known ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from spotopt.domain.agents.agent import HEARTBEAT_TIMEOUT_SECONDS, Agent
from spotopt.domain.agents.values import (
    InstanceRole,
    Liveness,
    ReportedStatus,
)
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import is_instance_id
from spotopt.domain.shared.pools import Mode, pool_id_for

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
    has_matching_switch_command: bool,
    primary_is_live: bool,
) -> RegistrationCase:
    """R-1 … R-7 in order; ``instance_role`` None = the instance is unknown to the agent (sightings included)."""
    if not agent_exists:
        return RegistrationCase.NEW_AGENT
    if instance_role is not None:
        return _ROLE_CASES[instance_role]
    if has_matching_switch_command:
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
