"""Record that a background job run failed (JB-3: event ``job_failed``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.time import utc_iso


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordJobFailureCommand:
    job: str
    tick: datetime
    error: str
    attempts: int


class RecordJobFailure:
    """- A failing run emits the system event ``job_failed`` (error), for operators only (no notification).
    - ``error`` is a short description without secrets (NT-6): the caller passes no SQL, parameters or tokens.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, command: RecordJobFailureCommand) -> None:
        now = self._clock.now()
        tick = utc_iso(command.tick)
        event = DomainEvent(
            type="job_failed",
            severity=Severity.ERROR,
            message=f"Job {command.job} failed for tick {tick}: {command.error}",
            metadata={"job": command.job, "tick": tick, "error": command.error, "attempts": command.attempts},
        )
        await record_events(self._uow, [event], now)
        await self._uow.commit()
