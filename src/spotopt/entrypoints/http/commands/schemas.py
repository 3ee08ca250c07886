"""Request shapes of the command routes A4, A5, A7 (api.md §3) and the A7 request → command mapping. Unknown fields
are ignored (§1.4).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from spotopt.domain.commands.switch import InstanceFacts, SwitchTiming
from spotopt.domain.shared.ids import InstanceId
from spotopt.domain.shared.time import utc
from spotopt.entrypoints.http.wire import Ec2Id, ModeName
from spotopt.entrypoints.http.wire import text as _text


class AckRequest(msgspec.Struct, kw_only=True):
    success: bool
    message: _text(2000) | None = None  # type: ignore[valid-type]
    result: dict[str, Any] | None = None


class InstanceFactsBody(msgspec.Struct, kw_only=True):
    instance_id: Ec2Id
    instance_type: _text(64) | None = None  # type: ignore[valid-type]
    region: _text(32) | None = None  # type: ignore[valid-type]
    az: _text(32) | None = None  # type: ignore[valid-type]
    ami_id: _text(64) | None = None  # type: ignore[valid-type]
    mode: ModeName | None = None
    pool_id: _text(100) | None = None  # type: ignore[valid-type]


class TimingBody(msgspec.Struct, kw_only=True):
    switch_initiated_at: datetime | None = None
    initiated_at: datetime | None = None
    ami_created_at: datetime | None = None
    new_instance_launched_at: datetime | None = None
    instance_launched_at: datetime | None = None
    new_instance_ready_at: datetime | None = None
    instance_ready_at: datetime | None = None
    traffic_switched_at: datetime | None = None
    old_instance_terminated_at: datetime | None = None
    old_terminated_at: datetime | None = None


class SnapshotBody(msgspec.Struct, kw_only=True):
    used: bool | None = None
    snapshot_id: str | None = None


class SwitchReportRequest(msgspec.Struct, kw_only=True):
    old_instance: InstanceFactsBody
    new_instance: InstanceFactsBody
    prices: dict[str, float | None] | None = None
    pricing: dict[str, float | None] | None = None
    timing: TimingBody | None = None
    snapshot: SnapshotBody | None = None
    trigger: _text(20, 1) | None = None  # type: ignore[valid-type]
    command_id: _text(255) | None = None  # type: ignore[valid-type]


def instance_facts(body: InstanceFactsBody) -> InstanceFacts:
    return InstanceFacts(
        instance_id=InstanceId(body.instance_id),
        instance_type=body.instance_type,
        region=body.region,
        az=body.az,
        mode=body.mode,
        pool_id=body.pool_id,
        ami_id=body.ami_id,
    )


def switch_timing(body: TimingBody | None) -> SwitchTiming:
    """The first-listed key name wins when both spellings are present (api.md §1.4)."""
    if body is None:
        return SwitchTiming()

    def pick(*values: Any) -> Any:
        return next((utc(v) for v in values if v is not None), None)

    return SwitchTiming(
        initiated_at=pick(body.switch_initiated_at, body.initiated_at),
        launched_at=pick(body.new_instance_launched_at, body.instance_launched_at),
        ready_at=pick(body.new_instance_ready_at, body.instance_ready_at),
        traffic_switched_at=pick(body.traffic_switched_at),
        old_terminated_at=pick(body.old_instance_terminated_at, body.old_terminated_at),
        ami_created_at=pick(body.ami_created_at),
    )
