"""When background jobs run (domain §7.2) and how their health is judged (api H1, JB-1, JB-6)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from spotopt.application.jobs.names import JobName

HEARTBEAT_WINDOW = timedelta(seconds=60)
MAX_MISSED_TICKS = 2
_DAY = 86_400


def _fits_grid(every: int) -> bool:
    """The grid must repeat identically every day, so it divides a minute, an hour or a day in whole units."""
    return 60 % every == 0 or (every % 60 == 0 and 3600 % every == 0) or (every % 3600 == 0 and _DAY % every == 0)


def _cron_field(start: int, last: int, step: int) -> str:
    if step > last:
        return str(start)
    if start == 0:
        return "*" if step == 1 else f"*/{step}"
    return f"{start}-{last}/{step}"


@dataclass(frozen=True, slots=True)
class Schedule:
    """A UTC tick grid (JB-6): ticks at ``offset + k·every`` seconds after midnight UTC, every day alike."""

    every: int
    offset: int = 0

    def __post_init__(self) -> None:
        if self.every <= 0 or not _fits_grid(self.every):
            raise ValueError(f"a job period must divide a minute, an hour or a day; got {self.every} s")
        if not 0 <= self.offset < self.every:
            raise ValueError(f"a job offset must be within [0, {self.every}) s; got {self.offset} s")

    def tick_at_or_before(self, now: datetime) -> datetime:
        seconds = math.floor(now.timestamp()) - self.offset
        return datetime.fromtimestamp(seconds - seconds % self.every + self.offset, UTC)

    def next_tick(self, now: datetime) -> datetime:
        """The first tick strictly after ``now``."""
        return self.tick_at_or_before(now) + timedelta(seconds=self.every)

    def missed_ticks(self, since: datetime, now: datetime) -> int:
        """Ticks after ``since`` that should have started by ``now`` (one period, at most 15 s, of slack)."""
        deadline = now - timedelta(seconds=min(self.every, 15))
        first = self.next_tick(since)
        if first > deadline:
            return 0
        return 1 + int((deadline - first).total_seconds()) // self.every

    @property
    def cron(self) -> str:
        """The same grid as a six-field croniter expression (seconds last), as SAQ's ``CronJob`` expects."""
        if 60 % self.every == 0:
            return f"* * * * * {_cron_field(self.offset, 59, self.every)}"
        minutes, seconds = divmod(self.offset, 60)
        if self.every <= 3600:
            return f"{_cron_field(minutes, 59, self.every // 60)} * * * * {seconds}"
        hours, minutes = divmod(minutes, 60)
        return f"{minutes} {_cron_field(hours, 23, self.every // 3600)} * * * {seconds}"

    def describe(self) -> str:
        if self.every == _DAY:
            return f"daily at {self.offset // 3600:02d}:{self.offset // 60 % 60:02d} UTC"
        unit, size = ("s", 1) if self.every < 60 else ("min", 60) if self.every < 3600 else ("h", 3600)
        text = f"every {self.every // size} {unit}"
        return f"{text} (+{self.offset} s)" if self.offset else text


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSpec:
    """How one job runs: its tick grid (``None`` = enqueued on demand only) and its SAQ policy.

    ``retries`` counts attempts in total; retries wait ``retry_delay`` seconds, doubling with jitter up to
    ``retry_backoff`` seconds. ``timeout`` stops a run that cannot finish (JB-5).
    """

    name: JobName
    schedule: Schedule | None
    timeout: int
    retries: int = 3
    retry_delay: float = 1.0
    retry_backoff: float = 30.0

    def with_period(self, every: int) -> JobSpec:
        return replace(self, schedule=Schedule(every))


DEFAULT_JOB_SPECS: Mapping[JobName, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(name=JobName.MONITOR_AGENT_HEALTH, schedule=Schedule(30), timeout=25, retries=2, retry_backoff=10),
        JobSpec(name=JobName.SWEEP_COMMANDS, schedule=Schedule(30), timeout=25, retries=2, retry_backoff=10),
        JobSpec(name=JobName.AGGREGATE_PRICING, schedule=Schedule(60), timeout=55, retries=2, retry_backoff=20),
        JobSpec(name=JobName.RECONCILE_PRICING, schedule=Schedule(3600, 420), timeout=600),
        JobSpec(name=JobName.FILL_PRICE_GAPS, schedule=Schedule(900), timeout=600),
        JobSpec(name=JobName.FILL_PRICE_GAPS_DAILY, schedule=Schedule(86_400, 3 * 3600), timeout=1800),
        JobSpec(name=JobName.ACCRUE_LEDGER, schedule=Schedule(300, 120), timeout=280),
        JobSpec(name=JobName.COORDINATE_REPLICAS, schedule=Schedule(10), timeout=9, retries=1),
        JobSpec(name=JobName.EVALUATE_AUTO_SWITCH, schedule=Schedule(300), timeout=280, retries=1),
        JobSpec(name=JobName.CLEAN_RETENTION, schedule=Schedule(86_400, 2 * 3600), timeout=1000),
        JobSpec(name=JobName.SNAPSHOT_CLIENT_GROWTH, schedule=Schedule(86_400, 300), timeout=600),
        JobSpec(name=JobName.SNAPSHOT_SAVINGS, schedule=Schedule(3600, 1200), timeout=900),
        JobSpec(name=JobName.FAN_OUT_NOTIFICATIONS, schedule=Schedule(60), timeout=55, retries=1),
        JobSpec(name=JobName.DELIVER_NOTIFICATION, schedule=None, timeout=30, retries=1),
    )
}


class BackgroundJobs(StrEnum):
    RUNNING = "running"
    STALLED = "stalled"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobActivity:
    """What the job-run rows say: the newest and oldest run start, and each job's newest tick."""

    last_started_at: datetime | None
    first_started_at: datetime | None
    last_ticks: Mapping[str, datetime]


def assess_background_jobs(now: datetime, activity: JobActivity, specs: Mapping[JobName, JobSpec]) -> BackgroundJobs:
    """H1: ``running`` when a run started in the last 60 s and no scheduled job missed more than two ticks.

    A job that never ran counts its missed ticks from the first run of any job (the worker's first sign of life).
    """
    last, first = activity.last_started_at, activity.first_started_at
    if last is None or first is None or now - last > HEARTBEAT_WINDOW:
        return BackgroundJobs.STALLED
    for name, spec in specs.items():
        if spec.schedule is None:
            continue
        since = activity.last_ticks.get(name.value, first)
        if spec.schedule.missed_ticks(since, now) > MAX_MISSED_TICKS:
            return BackgroundJobs.STALLED
    return BackgroundJobs.RUNNING


@dataclass(frozen=True, slots=True)
class JobCatalogue:
    """The jobs this deployment runs, with their configured specs (the worker registry and H1/M11 read it)."""

    specs: Mapping[JobName, JobSpec]
