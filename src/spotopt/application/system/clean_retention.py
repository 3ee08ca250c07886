"""The retention cleaner job (domain §7.2 "Retention cleaner", §7.3): daily at 02:00, bounded batches and time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock, RetentionStore
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.system.retention import MAX_BATCH, MAX_RUN, RetentionRule, retention_cutoff


@dataclass(frozen=True, slots=True, kw_only=True)
class CleanRetentionCommand:
    """``batch_size``: rows per DELETE statement (at most 5,000); ``budget``: the run stops after this long at the next
    batch boundary (at most 15 min) and the next day continues.
    """

    batch_size: int = MAX_BATCH
    budget: timedelta = MAX_RUN

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise InvalidValueError("batch_size", f"must be between 1 and {MAX_BATCH}")
        if not timedelta(0) < self.budget <= MAX_RUN:
            raise InvalidValueError("budget", "must be positive and at most 15 minutes")


@dataclass(frozen=True, slots=True, kw_only=True)
class CleanRetentionResult:
    """Rows deleted per rule (JB-4); ``complete`` is False when the time budget ended the run early."""

    deleted: dict[str, int] = field(default_factory=dict)
    complete: bool = True

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


class CleanRetention:
    """- Deletes expired rows rule by rule (§7.3), each batch one statement of at most ``batch_size`` rows and its own
      commit, so no lock is held long; stops at a batch boundary once ``budget`` is spent (JB-5).
    - Never deletes open or non-terminal records, the current on-demand price, ledger entries of a day without a final
      snapshot, or unread notifications younger than 90 days (the store's guards, ``RetentionStore``).
    - Deletes are naturally idempotent; event ``data_cleanup`` (info) with the counts ends every run.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, store: RetentionStore) -> None:
        self._uow = uow
        self._clock = clock
        self._store = store

    async def execute(self, command: CleanRetentionCommand) -> CleanRetentionResult:
        started = self._clock.now()
        deadline = started + command.budget
        deleted: dict[str, int] = {}
        complete = True
        for rule in RetentionRule:
            cutoff = retention_cutoff(rule, started)
            while True:
                if self._clock.now() >= deadline:
                    complete = False
                    break
                count = await self._store.purge(rule, cutoff, command.batch_size)
                await self._uow.commit()
                if count:
                    deleted[rule.value] = deleted.get(rule.value, 0) + count
                if count < command.batch_size:
                    break
            if not complete:
                break
        result = CleanRetentionResult(deleted=deleted, complete=complete)
        await record_events(self._uow, [_data_cleanup(result)], self._clock.now())
        await self._uow.commit()
        return result


def _data_cleanup(result: CleanRetentionResult) -> DomainEvent:
    state = "" if result.complete else "; stopped at the time limit, the next run continues"
    return DomainEvent(
        type="data_cleanup",
        severity=Severity.INFO,
        message=f"Retention cleanup deleted {result.total} row(s){state}.",
        metadata={"deleted": dict(result.deleted), "complete": result.complete},
    )
