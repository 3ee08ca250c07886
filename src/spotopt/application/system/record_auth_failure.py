"""Record a failed authentication as a system event (api.md §1.2: ``auth_failed``)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.events import DomainEvent, Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordAuthFailureCommand:
    source_address: str
    reason: str
    path: str


class RecordAuthFailure:
    """- Event ``auth_failed`` (warning) with the source address, the reason code and the path; never the token or
      its hash (NT-6). The caller samples it: at most one per source address per minute.
    - Its own transaction: the failed request itself writes nothing.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, command: RecordAuthFailureCommand) -> None:
        event = DomainEvent(
            type="auth_failed",
            severity=Severity.WARNING,
            message=f"Authentication failed from {command.source_address} ({command.reason}) on {command.path}",
            metadata={"source_address": command.source_address, "reason": command.reason, "path": command.path},
        )
        await record_events(self._uow, [event], self._clock.now())
        await self._uow.commit()
