"""Names of background jobs, shared by producers (JobQueue) and the worker registry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from spotopt.domain.shared.time import utc_iso


class JobName(StrEnum):
    MONITOR_AGENT_HEALTH = "monitor_agent_health"
    SWEEP_COMMANDS = "sweep_commands"
    AGGREGATE_PRICING = "aggregate_pricing"
    FILL_PRICE_GAPS = "fill_price_gaps"
    ACCRUE_LEDGER = "accrue_ledger"
    COORDINATE_REPLICAS = "coordinate_replicas"
    CLEAN_RETENTION = "clean_retention"
    SNAPSHOT_CLIENT_GROWTH = "snapshot_client_growth"
    SNAPSHOT_SAVINGS = "snapshot_savings"
    RECONCILE_PRICING = "reconcile_pricing"
    FILL_PRICE_GAPS_DAILY = "fill_price_gaps_daily"
    EVALUATE_AUTO_SWITCH = "evaluate_auto_switch"
    FAN_OUT_NOTIFICATIONS = "fan_out_notifications"
    DELIVER_NOTIFICATION = "deliver_notification"


class RunStatus(StrEnum):
    """State of one job-run row (JB-4); M11 ``last_status`` shows ``ok`` / ``error``."""

    RUNNING = "running"
    OK = "ok"
    ERROR = "error"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRun:
    """One run of a scheduled job: unique on ``(job, tick)`` (JB-1), with its summary (JB-4)."""

    job: str
    tick: datetime
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None = None
    duration_ms: int | None = None
    summary: Mapping[str, object] = field(default_factory=dict)


def run_key(job: JobName | str, tick: datetime) -> str:
    """JB-1: the queue key of a scheduled run, ``<job>:<tick in UTC ISO form>``."""
    return f"{job}:{utc_iso(tick)}"
