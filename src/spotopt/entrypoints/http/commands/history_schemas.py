"""Wire shape of the Switch record (A.6) for C19, and the C22 CSV columns."""

from __future__ import annotations

from typing import Any

import msgspec

from spotopt.domain.commands.switch import InstanceFacts, Switch
from spotopt.entrypoints.http.csv_export import Cell
from spotopt.entrypoints.http.wire import dt, num


class SwitchSideResponse(msgspec.Struct, kw_only=True):
    instance_id: str
    instance_type: str | None
    region: str | None
    az: str | None
    mode: str | None
    pool_id: str | None
    ami_id: str | None


class SwitchTimingResponse(msgspec.Struct, kw_only=True):
    initiated_at: str | None
    launched_at: str | None
    ready_at: str | None
    traffic_switched_at: str | None
    old_terminated_at: str | None


class SwitchResponse(msgspec.Struct, kw_only=True):
    id: str
    agent_id: str
    logical_agent_id: str
    command_id: str | None
    origin: str
    trigger: str | None
    old: SwitchSideResponse
    new: SwitchSideResponse
    reported_prices: dict[str, Any] | None
    old_price: float | None
    new_price: float | None
    baseline: float | None
    hourly_delta: float | None
    timing: SwitchTimingResponse
    applied: bool
    received_at: str


class SwitchHistoryResponse(msgspec.Struct, kw_only=True):
    history: list[SwitchResponse]
    total: int


def _side(facts: InstanceFacts) -> SwitchSideResponse:
    return SwitchSideResponse(
        instance_id=facts.instance_id, instance_type=facts.instance_type, region=facts.region, az=facts.az,
        mode=facts.mode, pool_id=facts.pool_id, ami_id=facts.ami_id,
    )  # fmt: skip


def switch_response(switch: Switch) -> SwitchResponse:
    t = switch.timing
    return SwitchResponse(
        id=switch.switch_id,
        agent_id=switch.agent_id,
        logical_agent_id=switch.logical_agent_id,
        command_id=switch.command_id,
        origin=switch.origin,
        trigger=switch.trigger,
        old=_side(switch.old),
        new=_side(switch.new),
        reported_prices=dict(switch.reported_prices) if switch.reported_prices is not None else None,
        old_price=num(switch.old_price),
        new_price=num(switch.new_price),
        baseline=num(switch.baseline),
        hourly_delta=num(switch.hourly_delta),
        timing=SwitchTimingResponse(
            initiated_at=dt(t.initiated_at),
            launched_at=dt(t.launched_at),
            ready_at=dt(t.ready_at),
            traffic_switched_at=dt(t.traffic_switched_at),
            old_terminated_at=dt(t.old_terminated_at),
        ),
        applied=switch.applied,
        received_at=dt(switch.received_at) or "",
    )


HISTORY_CSV_HEADER = [
    "switch_id",
    "received_at",
    "agent_id",
    "logical_agent_id",
    "origin",
    "trigger",
    "command_id",
    "old_instance_id",
    "old_mode",
    "old_pool_id",
    "new_instance_id",
    "new_mode",
    "new_pool_id",
    "old_price",
    "new_price",
    "baseline",
    "hourly_delta",
    "initiated_at",
    "ready_at",
    "traffic_switched_at",
    "old_terminated_at",
]


def history_csv_row(s: Switch) -> list[Cell]:
    t = s.timing
    return [
        s.switch_id, s.received_at, s.agent_id, s.logical_agent_id, s.origin, s.trigger, s.command_id,
        s.old.instance_id, s.old.mode, s.old.pool_id, s.new.instance_id, s.new.mode, s.new.pool_id,
        s.old_price, s.new_price, s.baseline, s.hourly_delta, t.initiated_at, t.ready_at, t.traffic_switched_at,
        t.old_terminated_at,
    ]  # fmt: skip
