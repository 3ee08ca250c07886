"""The replayed agent as the server sees it, and the settings of spotopt's policy in the replay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from spotopt.domain.agents.agent import Thresholds
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.replicas.precaution import PrecautionSettings
from spotopt.domain.shared.pools import Mode
from spotopt.entrypoints.replay.cloud import Instance


@dataclass(frozen=True, slots=True)
class SpotoptSettings:
    policy: PolicyDocument = field(default_factory=PolicyDocument)
    thresholds: Thresholds | None = None  # None: the policy document's default thresholds
    precaution: PrecautionSettings = field(default_factory=PrecautionSettings)
    terminate_wait_seconds: int = 300
    one_region: bool = True
    # Fleet view: other fleet instances run in every zone, so every capacity drop of any zone reaches the server as
    # a termination notice in that pool (§6.2 statistics are fleet-wide). Off: only the replayed agent's own.
    fleet_view: bool = False


@dataclass(slots=True)
class AgentState:
    """The server's snapshot of the replayed agent (§2.2) and its move history (§6.2 counters)."""

    mode: Mode = Mode.SPOT
    pool_id: str | None = None
    placement_since: datetime | None = None
    primary: Instance | None = None
    deliveries: list[datetime] = field(default_factory=list)
    last_switch_finished_at: datetime | None = None
    last_failover_at: datetime | None = None
