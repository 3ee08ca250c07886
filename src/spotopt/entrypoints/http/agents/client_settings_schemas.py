"""Wire shapes of C5 – C8 (api.md §5): requests reject unknown fields (§1.4); ``client_token`` is the §1.2 fallback."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar

import msgspec

from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.settings import MAX_TERMINATE_WAIT_SECONDS, MIN_TERMINATE_WAIT_SECONDS
from spotopt.entrypoints.http.agents.schemas import AgentConfigResponse
from spotopt.entrypoints.http.schema_rules import at_least_one_of

WaitSeconds = Annotated[int, msgspec.Meta(ge=MIN_TERMINATE_WAIT_SECONDS, le=MAX_TERMINATE_WAIT_SECONDS)]


class ToggleEnabledRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    enabled: bool
    client_token: str | None = None


class AgentSettingsRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """At least one field; both replica modes true is rejected (domain M1)."""

    openapi_extra: ClassVar[dict[str, Any]] = at_least_one_of(
        "auto_switch_enabled", "manual_replica_enabled", "auto_terminate_enabled", "terminate_wait_seconds"
    )

    auto_switch_enabled: bool | None = None
    manual_replica_enabled: bool | None = None
    auto_terminate_enabled: bool | None = None
    terminate_wait_seconds: WaitSeconds | None = None
    client_token: str | None = None


class AgentConfigRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """At least one threshold (AG-7 ranges); ``max_switches_per_week`` ≥ the effective daily limit."""

    openapi_extra: ClassVar[dict[str, Any]] = at_least_one_of(
        "min_savings_percent",
        "risk_threshold",
        "max_switches_per_day",
        "max_switches_per_week",
        "min_pool_duration_hours",
        "cooldown_minutes",
    )

    min_savings_percent: Annotated[float, msgspec.Meta(ge=0, le=100)] | None = None
    risk_threshold: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    max_switches_per_day: Annotated[int, msgspec.Meta(ge=0, le=48)] | None = None
    max_switches_per_week: Annotated[int, msgspec.Meta(ge=0, le=336)] | None = None
    min_pool_duration_hours: Annotated[int, msgspec.Meta(ge=0, le=168)] | None = None
    cooldown_minutes: Annotated[int, msgspec.Meta(ge=0, le=1440)] | None = None
    client_token: str | None = None

    def thresholds(self) -> dict[str, Decimal | int]:
        values: dict[str, Decimal | int] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if name == "client_token" or value is None:
                continue
            values[name] = Decimal(str(value)) if isinstance(value, float) else value
        return values


class ToggleEnabledResponse(msgspec.Struct, kw_only=True):
    success: bool
    agent_id: str
    enabled: bool
    cancelled_command_ids: list[str]


class AgentSettings(msgspec.Struct, kw_only=True):
    enabled: bool
    auto_switch_enabled: bool
    manual_replica_enabled: bool
    auto_terminate_enabled: bool
    terminate_wait_seconds: int


class AgentSettingsResponse(msgspec.Struct, kw_only=True):
    success: bool
    agent_id: str
    settings: AgentSettings
    retired_replica_ids: list[str]
    cancelled_command_ids: list[str]


class AgentConfigChangedResponse(msgspec.Struct, kw_only=True):
    success: bool
    agent_id: str
    config: AgentConfigResponse


class AgentDeletedResponse(msgspec.Struct, kw_only=True):
    success: bool
    agent_id: str
    message: str
    instances_possibly_running: list[str]


def settings_of(agent: Agent) -> AgentSettings:
    return AgentSettings(
        enabled=agent.enabled,
        auto_switch_enabled=agent.auto_switch_enabled,
        manual_replica_enabled=agent.manual_replica_enabled,
        auto_terminate_enabled=agent.auto_terminate_enabled,
        terminate_wait_seconds=agent.terminate_wait_seconds,
    )
