"""Every table of the service, declared from its domain entity (see schema.py)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, Integer, Numeric, String, Table, Text, UniqueConstraint

from spotopt.adapters.persistence.schema import Computed, define, metadata
from spotopt.adapters.persistence.types import Money, Ratio, UTCDateTime
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.sighting import UnattachedSighting
from spotopt.domain.agents.values import Lifecycle
from spotopt.domain.clients.client import Client
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch import CleanupRecord, Switch
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.interruptions.episode import InterruptionEpisode, InterruptionSignal
from spotopt.domain.interruptions.values import OPEN_EPISODE
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.ledger.snapshots import ClientGrowthSnapshot, SavingsDailySnapshot, SavingsMonthlySnapshot
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.pricing.buckets import CleanPriceBucket
from spotopt.domain.pricing.gaps import InterpolationRecord
from spotopt.domain.pricing.market import OnDemandObservation, OnDemandPrice, PricingReport, PricingSubmission, SpotPool
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA

clients = define(
    Client,
    "clients",
    ["client_id"],
    uniques=[["token_hash"], ["name_key"], ["email"]],
    computed={"name_key": Computed(String(255), lambda c: c.name.lower())},
)

admin_tokens = Table(
    "admin_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("token_hint", String(8), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

agents = define(
    Agent,
    "agents",
    ["agent_id"],
    flatten={"thresholds": ""},
    overrides={"min_savings_percent": Ratio(), "risk_threshold": Ratio()},
    # AG-1: unique among active agents only; NULL for deleted ones (MySQL has no partial unique index).
    computed={
        "active_logical_key": Computed(
            String(255), lambda a: a.logical_agent_id if a.lifecycle is Lifecycle.ACTIVE else None
        )
    },
    uniques=[["client_id", "active_logical_key"]],
    indexes=[["client_id", "created_at"]],
)

instances = define(
    Instance,
    "instances",
    ["client_id", "instance_id"],
    indexes=[["agent_id", "role"]],
)

sightings = define(UnattachedSighting, "unattached_sightings", ["client_id", "instance_id"])

commands = define(
    AgentCommand,
    "commands",
    ["command_id"],
    overrides={"message": Text(), "reason": Text()},
    uniques=[["agent_id", "idempotency_key"]],
    indexes=[["agent_id", "status"]],
)

replicas = define(
    Replica,
    "replicas",
    ["replica_id"],
    overrides={"state_transfer_progress": Ratio(), "failure_reason": Text(), "termination_reason": Text()},
    # RP-6: at most one live replica per episode.
    computed={
        "live_episode_key": Computed(String(36), lambda r: r.episode_id if r.status in NON_TERMINAL_REPLICA else None)
    },
    uniques=[["agent_id", "instance_id"], ["live_episode_key"]],
    indexes=[["agent_id", "status"]],
)

episodes = define(
    InterruptionEpisode,
    "interruption_episodes",
    ["episode_id"],
    # EP-1: at most one open episode per (agent, instance).
    computed={"open_key": Computed(String(32), lambda e: e.instance_id if e.state in OPEN_EPISODE else None)},
    uniques=[["agent_id", "open_key"]],
    indexes=[["agent_id", "instance_id"]],
)

signals = define(InterruptionSignal, "interruption_signals", ["signal_id"], indexes=[["pool_id", "received_at"]])

switches = define(
    Switch,
    "switches",
    ["switch_id"],
    flatten={"old": "old_", "new": "new_", "timing": "timing_"},
    uniques=[["agent_id", "new_instance_id"]],
    indexes=[["client_id", "received_at"]],
)

cleanup_records = define(
    CleanupRecord,
    "cleanup_records",
    ["record_id"],
    uniques=[["agent_id", "reported_at"]],
)

pricing_reports = define(
    PricingReport,
    "pricing_reports",
    ["report_id"],
    indexes=[["agent_id", "received_at"], ["client_id", "instance_id"]],
)

pricing_submissions = define(
    PricingSubmission,
    "pricing_submissions",
    ["submission_id"],
    indexes=[["processed_at", "received_at"], ["pool_id", "observed_at"]],
)

spot_pools = define(SpotPool, "spot_pools", ["pool_id"], indexes=[["instance_type", "region"]])

ondemand_prices = define(OnDemandPrice, "ondemand_prices", ["instance_type", "region"])

ondemand_observations = define(
    OnDemandObservation, "ondemand_observations", ["observation_id"], indexes=[["instance_type", "region"]]
)

price_buckets = define(
    CleanPriceBucket,
    "price_buckets",
    ["pool_id", "bucket_start"],
    overrides={"confidence": Ratio(), "savings_percent": Numeric(16, 2)},
    indexes=[["instance_type", "region", "bucket_start"], ["fill_id"]],
)

interpolation_records = define(
    InterpolationRecord,
    "interpolation_records",
    ["record_id"],
    overrides={"confidence": Ratio()},
    indexes=[["pool_id", "bucket_start"], ["fill_id"]],
)

ledger_entries = define(
    LedgerEntry,
    "ledger_entries",
    ["entry_id"],
    overrides={
        "hours": Numeric(24, 10),
        "cost": Money(),
        "baseline_cost": Money(),
        "savings": Money(),
        "price_confidence": Ratio(),
    },
    # IN-8/LG-1: at most one open entry per instance.
    computed={"open_key": Computed(String(64), lambda e: e.instance_id if e.ended_at is None else None)},
    uniques=[["client_id", "open_key"]],
    indexes=[["client_id", "started_at"], ["agent_id", "ended_at"], ["client_id", "instance_id"]],
)

notifications = define(
    Notification,
    "notifications",
    ["notification_id"],
    overrides={"message": Text()},
    uniques=[["client_id", "dedup_key"]],
    indexes=[["client_id", "created_at"]],
)

system_events = Table(
    "system_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("client_id", String(36), nullable=True),
    Column("agent_id", String(36), nullable=True),
    Column("instance_id", String(32), nullable=True),
    Column("message", Text(), nullable=False),
    Column("metadata", JSON(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("job", String(64), primary_key=True),
    Column("tick", UTCDateTime(), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("duration_ms", Integer(), nullable=True),
    Column("summary", JSON(), nullable=True),
    UniqueConstraint("job", "tick", name="uq_job_runs_job_tick"),
)

# DP-14: stored decisions; C4 lists them by the agents of a client (joined on agent_id).
decisions = define(
    Decision,
    "decisions",
    ["decision_id"],
    overrides={"reason": Text(), "risk_model_version": Text(), "price_model_version": Text()},
    indexes=[["agent_id", "evaluated_at"], ["agent_id", "trigger", "evaluated_at"], ["evaluated_at"]],
)
decisions.c.decision_id.nullable = False  # a stored decision always carries its id (DP-15)

# §5.4 snapshots: figures flattened into plain columns (the C21 export's names).
_SNAPSHOT_FIGURES = {
    **{name: Money() for name in ("baseline_cost", "primary_cost", "overhead_cost", "actual_cost", "savings")},
    **{f"{kind}_hours": Numeric(24, 10) for kind in ("primary", "spot", "ondemand", "standby", "kept_old")},
    "unpriced_hours": Numeric(24, 10),
    "priced_primary_hours": Numeric(24, 10),
    "savings_percent": Numeric(18, 2),
    "coverage": Ratio(),
}

savings_daily = define(
    SavingsDailySnapshot,
    "savings_daily",
    ["client_id", "day"],
    flatten={"figures": ""},
    overrides={"day": Date(), **_SNAPSHOT_FIGURES},
    indexes=[["day"]],
)

savings_monthly = define(
    SavingsMonthlySnapshot,
    "savings_monthly",
    ["client_id", "year", "month"],
    flatten={"figures": ""},
    overrides=dict(_SNAPSHOT_FIGURES),
)

client_growth_daily = define(ClientGrowthSnapshot, "client_growth_daily", ["day"], overrides={"day": Date()})
