"""Names of background jobs, shared by producers (JobQueue) and the worker registry."""

from __future__ import annotations

from enum import StrEnum


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
