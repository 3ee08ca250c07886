"""Switch records (domain §2.6) and cleanup records (T-2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from spotopt.domain.shared.ids import AgentId, ClientId, CommandId, InstanceId, SwitchId


@dataclass(frozen=True, slots=True)
class InstanceFacts:
    instance_id: InstanceId
    instance_type: str | None = None
    region: str | None = None
    az: str | None = None
    mode: str | None = None
    pool_id: str | None = None
    ami_id: str | None = None


@dataclass(frozen=True, slots=True)
class SwitchTiming:
    initiated_at: datetime | None = None
    launched_at: datetime | None = None
    ready_at: datetime | None = None
    traffic_switched_at: datetime | None = None
    old_terminated_at: datetime | None = None
    ami_created_at: datetime | None = None


@dataclass(eq=False, slots=True)
class Switch:
    switch_id: SwitchId
    client_id: ClientId
    agent_id: AgentId
    logical_agent_id: str
    origin: str
    old: InstanceFacts
    new: InstanceFacts
    timing: SwitchTiming
    applied: bool
    received_at: datetime
    command_id: CommandId | None = None
    trigger: str | None = None
    reported_prices: dict[str, object] | None = None
    old_price: Decimal | None = None
    new_price: Decimal | None = None
    baseline: Decimal | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Switch) and other.switch_id == self.switch_id

    def __hash__(self) -> int:
        return hash(self.switch_id)

    @property
    def hourly_delta(self) -> Decimal | None:
        if self.old_price is None or self.new_price is None:
            return None
        return self.old_price - self.new_price


@dataclass(eq=False, slots=True)
class CleanupRecord:
    record_id: str
    client_id: ClientId
    agent_id: AgentId
    received_at: datetime
    reported_at: datetime | None
    deleted_snapshots: int
    deleted_amis: int
    failed_count: int
    body: dict[str, object] = field(default_factory=dict)
    old_instance_id: InstanceId | None = None
    old_instance_result: str | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CleanupRecord) and other.record_id == self.record_id

    def __hash__(self) -> int:
        return hash(self.record_id)
