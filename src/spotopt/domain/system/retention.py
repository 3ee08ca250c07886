"""Retention (domain §7.3): how long each kind of record is kept, and what may never be deleted.

Each rule names a kind of record with its age limit. The store that deletes applies the rule's guard too: open or
non-terminal records (open ledger entries, open episodes, non-terminal replicas and commands, non-terminated
instances), the current on-demand price and ledger entries of a day without a final snapshot are never deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

MAX_BATCH: Final = 5000
MAX_RUN: Final = timedelta(minutes=15)
DAILY_SAVINGS_YEARS: Final = 5


class RetentionRule(StrEnum):
    """One row of the §7.3 table (for the records the service stores today), in deletion order."""

    PRICING_REPORTS = "pricing_reports"
    PRICING_SUBMISSIONS = "pricing_submissions"
    PRICE_BUCKETS = "price_buckets"
    INTERPOLATION_RECORDS = "interpolation_records"
    ONDEMAND_OBSERVATIONS = "ondemand_observations"
    SPOT_POOLS = "spot_pools"
    TERMINAL_COMMANDS = "terminal_commands"
    SWITCHES = "switches"
    DECISIONS = "decisions"
    INTERRUPTION_SIGNALS = "interruption_signals"
    CLOSED_EPISODES = "closed_episodes"
    TERMINAL_REPLICAS = "terminal_replicas"
    TERMINATED_INSTANCES = "terminated_instances"
    UNATTACHED_SIGHTINGS = "unattached_sightings"
    CLOSED_LEDGER_ENTRIES = "closed_ledger_entries"
    DAILY_SAVINGS = "daily_savings"
    READ_NOTIFICATIONS = "read_notifications"
    UNREAD_NOTIFICATIONS = "unread_notifications"
    INFO_WARNING_EVENTS = "info_warning_events"
    ERROR_CRITICAL_EVENTS = "error_critical_events"
    CLEANUP_RECORDS = "cleanup_records"
    JOB_RUNS = "job_runs"


def _days(n: int) -> timedelta:
    return timedelta(days=n)


KEPT_FOR: Final[dict[RetentionRule, timedelta]] = {
    RetentionRule.PRICING_REPORTS: _days(30),
    RetentionRule.PRICING_SUBMISSIONS: _days(30),
    RetentionRule.PRICE_BUCKETS: _days(730),
    RetentionRule.INTERPOLATION_RECORDS: _days(90),
    RetentionRule.ONDEMAND_OBSERVATIONS: _days(365),
    RetentionRule.SPOT_POOLS: _days(365),
    RetentionRule.TERMINAL_COMMANDS: _days(30),
    RetentionRule.SWITCHES: _days(730),
    RetentionRule.DECISIONS: _days(90),
    RetentionRule.INTERRUPTION_SIGNALS: _days(730),
    RetentionRule.CLOSED_EPISODES: _days(730),
    RetentionRule.TERMINAL_REPLICAS: _days(180),
    RetentionRule.TERMINATED_INSTANCES: _days(400),
    # Sightings expire after 24 h unseen (health monitor); the rows go 7 days after they were last seen.
    RetentionRule.UNATTACHED_SIGHTINGS: _days(7),
    RetentionRule.CLOSED_LEDGER_ENTRIES: _days(400),
    RetentionRule.READ_NOTIFICATIONS: _days(30),
    RetentionRule.UNREAD_NOTIFICATIONS: _days(90),
    RetentionRule.INFO_WARNING_EVENTS: _days(90),
    RetentionRule.ERROR_CRITICAL_EVENTS: _days(180),
    RetentionRule.CLEANUP_RECORDS: _days(90),
    RetentionRule.JOB_RUNS: _days(30),
}


def retention_cutoff(rule: RetentionRule, now: datetime) -> datetime:
    """§7.3: records of ``rule`` measured before the returned time have expired (daily savings: 5 calendar years)."""
    if rule is RetentionRule.DAILY_SAVINGS:
        try:
            return now.replace(year=now.year - DAILY_SAVINGS_YEARS)
        except ValueError:  # 29 February
            return now.replace(year=now.year - DAILY_SAVINGS_YEARS, day=28)
    return now - KEPT_FOR[rule]
