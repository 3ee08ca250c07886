"""Settings and mode changes of an agent (domain §3.1 E1/E2, §3.6 M1 – M7, AG-5 … AG-7).

Pure rules: they change the agent and say which effects on replicas and commands the use case must apply.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from spotopt.domain.agents.agent import Agent, Thresholds
from spotopt.domain.shared.errors import InvalidValueError

MIN_TERMINATE_WAIT_SECONDS = 30
MAX_TERMINATE_WAIT_SECONDS = 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsChange:
    """C6 body: every field optional, at least one; both replica modes on at once is M1 (a validation error)."""

    auto_switch_enabled: bool | None = None
    manual_replica_enabled: bool | None = None
    auto_terminate_enabled: bool | None = None
    terminate_wait_seconds: int | None = None

    def __post_init__(self) -> None:
        if all(getattr(self, f.name) is None for f in dataclasses.fields(self)):
            raise InvalidValueError("body", "at least one setting is required")
        if self.auto_switch_enabled is True and self.manual_replica_enabled is True:
            raise InvalidValueError("manual_replica_enabled", "cannot be true together with auto_switch_enabled")
        wait = self.terminate_wait_seconds
        if wait is not None and not MIN_TERMINATE_WAIT_SECONDS <= wait <= MAX_TERMINATE_WAIT_SECONDS:
            raise InvalidValueError(
                "terminate_wait_seconds",
                f"must be between {MIN_TERMINATE_WAIT_SECONDS} and {MAX_TERMINATE_WAIT_SECONDS}",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsOutcome:
    """What a settings change did (``mode_changed``/``settings_changed`` events) and which effects follow."""

    mode_changed: bool
    settings_changed: bool
    cancel_voluntary_commands: bool
    retire_manual_replicas: bool

    @property
    def changed(self) -> bool:
        return self.mode_changed or self.settings_changed


def change_settings(agent: Agent, change: SettingsChange) -> SettingsOutcome:
    """M2 – M6 on ``agent``: turning one replica mode on turns the other off (AG-5).

    - Leaving manual-replica mode (M2, M4) retires its ``manual`` replicas (the caller spares an open episode's, RP-7).
    - Entering manual-replica mode (M3) or turning auto-switch off (M5) cancels pending ``automatic``/``api``
      commands.
    - M6: termination settings only affect commands created afterwards; nothing else happens.
    """
    was_auto, was_manual = agent.auto_switch_enabled, agent.manual_replica_enabled
    auto, manual = was_auto, was_manual
    if change.auto_switch_enabled is not None:
        auto = change.auto_switch_enabled
        if auto:
            manual = False
    if change.manual_replica_enabled is not None:
        manual = change.manual_replica_enabled
        if manual:
            auto = False
    terminate = agent.auto_terminate_enabled if change.auto_terminate_enabled is None else change.auto_terminate_enabled
    wait = agent.terminate_wait_seconds if change.terminate_wait_seconds is None else change.terminate_wait_seconds
    settings_changed = (terminate, wait) != (agent.auto_terminate_enabled, agent.terminate_wait_seconds)
    agent.auto_switch_enabled, agent.manual_replica_enabled = auto, manual
    agent.auto_terminate_enabled, agent.terminate_wait_seconds = terminate, wait
    return SettingsOutcome(
        mode_changed=(auto, manual) != (was_auto, was_manual),
        settings_changed=settings_changed,
        cancel_voluntary_commands=not auto and (was_auto or (manual and not was_manual)),
        retire_manual_replicas=was_manual and not manual,
    )


THRESHOLD_FIELDS = tuple(f.name for f in dataclasses.fields(Thresholds))


def change_thresholds(agent: Agent, values: dict[str, Decimal | int]) -> bool:
    """M7/AG-7: merge the given thresholds; invalid values are rejected, never clamped. True when any changed."""
    unknown = [name for name in values if name not in THRESHOLD_FIELDS]
    if unknown:
        raise InvalidValueError(unknown[0], "is not a threshold")
    if not values:
        raise InvalidValueError("body", "at least one threshold is required")
    updated = dataclasses.replace(agent.thresholds, **values)  # type: ignore[arg-type]
    changed = updated != agent.thresholds
    agent.thresholds = updated
    return changed
