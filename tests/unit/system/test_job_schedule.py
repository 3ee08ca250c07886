from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from croniter import croniter  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.jobs.names import JobName, run_key
from spotopt.application.jobs.schedule import (
    DEFAULT_JOB_SPECS,
    BackgroundJobs,
    JobActivity,
    JobSpec,
    Schedule,
    assess_background_jobs,
)

NOW = datetime(2026, 11, 28, 9, 0, 10, tzinfo=UTC)
GRIDS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400]


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    every = draw(st.sampled_from(GRIDS))
    return Schedule(every, draw(st.integers(min_value=0, max_value=every - 1)))


EARLIEST = datetime(2024, 1, 1)  # noqa: DTZ001 - hypothesis takes naive bounds; timezones= makes values aware
LATEST = datetime(2030, 12, 31)  # noqa: DTZ001
instants = st.datetimes(EARLIEST, LATEST, timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0))


@given(schedules(), instants)
def test_jb6_the_cron_expression_fires_exactly_on_the_schedule_ticks(schedule: Schedule, now: datetime) -> None:
    fired = datetime.fromtimestamp(croniter(schedule.cron, now).get_next(), UTC)

    assert fired == schedule.next_tick(now)


@given(schedules(), instants)
def test_jb6_ticks_lie_on_the_utc_grid_and_bracket_now(schedule: Schedule, now: datetime) -> None:
    tick = schedule.tick_at_or_before(now)

    assert tick <= now < schedule.next_tick(now)
    assert (tick - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() % schedule.every == schedule.offset


@pytest.mark.parametrize(("every", "offset"), [(7, 0), (90, 0), (5400, 0), (172800, 0), (0, 0), (30, 30), (30, -1)])
def test_jb6_a_grid_that_does_not_repeat_daily_is_rejected(every: int, offset: int) -> None:
    with pytest.raises(ValueError, match="job"):
        Schedule(every, offset)


@pytest.mark.parametrize(
    ("schedule", "text"),
    [
        (Schedule(30), "every 30 s"),
        (Schedule(300, 120), "every 5 min (+120 s)"),
        (Schedule(86400, 7200), "daily at 02:00 UTC"),
    ],
)
def test_m11_schedules_describe_themselves(schedule: Schedule, text: str) -> None:
    assert schedule.describe() == text


def test_jb1_the_run_key_is_the_job_and_its_tick_in_utc_iso_form() -> None:
    tick = datetime(2026, 11, 28, 10, 0, 30, tzinfo=UTC).astimezone()

    assert run_key(JobName.MONITOR_AGENT_HEALTH, tick) == "monitor_agent_health:2026-11-28T10:00:30Z"


def test_domain_7_2_the_health_monitor_runs_every_30_seconds() -> None:
    spec = DEFAULT_JOB_SPECS[JobName.MONITOR_AGENT_HEALTH]

    assert spec.schedule == Schedule(30)
    assert spec.timeout < 30


SPECS = {JobName.MONITOR_AGENT_HEALTH: JobSpec(name=JobName.MONITOR_AGENT_HEALTH, schedule=Schedule(30), timeout=25)}


def activity(
    last: timedelta | None, first: timedelta = timedelta(hours=1), tick: timedelta | None = None, **others: timedelta
) -> JobActivity:
    ticks = {} if tick is None else {"monitor_agent_health": NOW - tick}
    ticks.update({job: NOW - ago for job, ago in others.items()})
    return JobActivity(
        last_started_at=None if last is None else NOW - last, first_started_at=NOW - first, last_ticks=ticks
    )


@pytest.mark.parametrize(
    ("seen", "expected"),
    [
        (activity(timedelta(seconds=10), tick=timedelta(seconds=10)), BackgroundJobs.RUNNING),
        (activity(timedelta(seconds=60), tick=timedelta(seconds=60)), BackgroundJobs.RUNNING),
        (activity(timedelta(seconds=61), tick=timedelta(seconds=61)), BackgroundJobs.STALLED),
        (activity(None), BackgroundJobs.STALLED),
    ],
)
def test_h1_running_needs_a_worker_heartbeat_within_60_seconds(seen: JobActivity, expected: BackgroundJobs) -> None:
    assert assess_background_jobs(NOW, seen, SPECS) is expected


def test_h1_two_missed_ticks_are_tolerated_three_are_a_stall() -> None:
    daily: dict[JobName, JobSpec] = {
        **SPECS,
        JobName.CLEAN_RETENTION: JobSpec(name=JobName.CLEAN_RETENTION, schedule=Schedule(86400, 7200), timeout=900),
    }
    heartbeat = timedelta(seconds=5)

    # today's and yesterday's 02:00 runs missed:
    two_missed = activity(heartbeat, tick=timedelta(seconds=10), clean_retention=timedelta(days=2, hours=7))
    three_missed = activity(heartbeat, tick=timedelta(seconds=10), clean_retention=timedelta(days=3, hours=7))

    assert assess_background_jobs(NOW, two_missed, daily) is BackgroundJobs.RUNNING
    assert assess_background_jobs(NOW, three_missed, daily) is BackgroundJobs.STALLED


def test_h1_a_job_that_never_ran_counts_its_missed_ticks_from_the_first_run_of_any_job() -> None:
    fresh_worker = activity(timedelta(seconds=5), first=timedelta(seconds=70))
    old_worker = activity(timedelta(seconds=5), first=timedelta(seconds=200))

    assert assess_background_jobs(NOW, fresh_worker, SPECS) is BackgroundJobs.RUNNING
    assert assess_background_jobs(NOW, old_worker, SPECS) is BackgroundJobs.STALLED


@given(st.integers(min_value=0, max_value=20), st.integers(min_value=0, max_value=29))
def test_jb1_missed_ticks_count_whole_periods_after_the_grace(periods: int, within: int) -> None:
    schedule = Schedule(30)
    last = schedule.tick_at_or_before(NOW)
    now = last + timedelta(seconds=30 * periods + 15 + within)

    assert schedule.missed_ticks(last, now) == periods
