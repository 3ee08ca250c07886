"""Background-job wiring for the entrypoints, which never import adapters: the catalogue, the queue, Valkey."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from saq import Queue

from spotopt.adapters.embedded_valkey import embedded_valkey
from spotopt.adapters.job_queue import create_queue
from spotopt.application.jobs.names import JobName
from spotopt.application.jobs.schedule import DEFAULT_JOB_SPECS, JobCatalogue
from spotopt.bootstrap.settings import Settings

VALKEY_DIR = "valkey"


def job_catalogue(settings: Settings) -> JobCatalogue:
    """The default catalogue with the periods of ``SPOTOPT_JOB_PERIODS`` applied (unknown names are an error)."""
    specs = dict(DEFAULT_JOB_SPECS)
    for name, every in settings.job_periods:
        job = JobName(name)
        if job in specs:
            specs[job] = specs[job].with_period(every)
    return JobCatalogue(specs)


@dataclass(frozen=True, slots=True)
class JobBackend:
    """This process's SAQ queue, or ``None`` when no Redis is configured (producers then drop jobs, logged)."""

    queue: Queue | None


def make_queue(settings: Settings, catalogue: JobCatalogue) -> Queue:
    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set")
    return create_queue(settings.redis_url, name=settings.job_queue_name, specs=catalogue.specs)


@contextmanager
def embedded_job_store(settings: Settings) -> Iterator[str]:
    """Run an embedded Valkey with its data under ``<data dir>/valkey``; yields its ``redis://`` URL."""
    with embedded_valkey(settings.data_dir / VALKEY_DIR) as url:
        yield url
