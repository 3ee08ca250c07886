"""The ledger accrual job (domain §7.2 "Ledger accrual"; LG-4 splits for price, baseline and midnight)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.ledger.ledger_book import LedgerBook
from spotopt.application.ports.agents import AgentRef
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.ledger.accrual import PRICE_BUCKET, accrue
from spotopt.domain.ledger.entry import LedgerEntry
from spotopt.domain.pricing.buckets import bucket_start
from spotopt.domain.shared.errors import DomainError, InvalidValueError
from spotopt.domain.shared.ids import AgentId
from spotopt.domain.shared.time import utc_iso

DEFAULT_BATCH_SIZE = 200


def last_completed_bucket(now: datetime) -> datetime:
    """The newest 5-minute bucket that has ended by ``now`` (PR-10): at 09:07 the one starting at 09:00."""
    return bucket_start(now) - PRICE_BUCKET


def accrual_key(bucket: datetime) -> str:
    """§7.2 idempotency key of an accrual run: ``ledger:<bucket_start>``."""
    return f"ledger:{utc_iso(bucket)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccrueLedgerCommand:
    """One bounded batch (JB-5): at most ``limit`` agents after ``after`` (keyset); ``bucket`` defaults to the last
    completed bucket at the clock's now. ``lookback`` re-applies that many earlier buckets first (catch-up after a
    skipped agent; replaying a bucket is a no-op).
    """

    bucket: datetime | None = None
    after: AgentId | None = None
    limit: int = DEFAULT_BATCH_SIZE
    lookback: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AccrueLedgerResult:
    """Counts for the job-run summary (JB-4); pass ``next_after`` back as ``after`` while it is not None."""

    bucket: datetime
    agents: int = 0
    entries_written: int = 0
    skipped: tuple[AgentId, ...] = ()
    failed: tuple[AgentId, ...] = ()
    next_after: AgentId | None = None


class AccrueLedger:
    """- For the last completed bucket, every open entry is re-priced with the ledger price in effect (PR-25) of its
      placement and the current on-demand baseline (PR-26): a differing value (unknown ↔ known included) closes
      it at the bucket start and opens the next one there (LG-4); then every UTC midnight up to now splits it.
    - A split at an already-split time is a no-op; closed entries are never touched (LG-2); nothing closes outside
      ``[started_at, now]`` (LG-3); an entry of a terminated instance is left alone (IN-8, nothing opens for it).
    - One agent per transaction, locked with ``SKIP LOCKED`` (CC-4): a busy agent waits for the next tick. A failing
      agent is rolled back and reported; the others proceed (JB-3). Idempotent.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, ledger: LedgerBook) -> None:
        self._uow = uow
        self._clock = clock
        self._ledger = ledger

    async def execute(self, command: AccrueLedgerCommand) -> AccrueLedgerResult:
        now = self._clock.now()
        bucket = _checked_bucket(command.bucket or last_completed_bucket(now), now)
        buckets = [bucket - PRICE_BUCKET * k for k in range(max(command.lookback, 0), -1, -1)]
        refs = await self._uow.ledger.agents_with_open_entries(command.limit, after=command.after)
        written, skipped, failed = 0, [], []
        for ref in refs:
            try:
                count = await self._accrue_agent(ref, buckets, now)
            except DomainError:
                await self._uow.rollback()
                failed.append(ref.agent_id)
                continue
            if count is None:
                skipped.append(ref.agent_id)
            else:
                written += count
        return AccrueLedgerResult(
            bucket=bucket,
            agents=len(refs),
            entries_written=written,
            skipped=tuple(skipped),
            failed=tuple(failed),
            next_after=refs[-1].agent_id if len(refs) >= command.limit else None,
        )

    async def _accrue_agent(self, ref: AgentRef, buckets: list[datetime], now: datetime) -> int | None:
        """Entries written for one agent, or None when its row is locked elsewhere (or it is gone)."""
        agent = await self._uow.agents.get_for_update_skip_locked(ref.client_id, ref.agent_id)
        if agent is None:
            await self._uow.rollback()
            return None
        live = {i.instance_id for i in await self._uow.instances.list_for_agent(agent.agent_id) if not i.is_terminated}
        written: dict[str, LedgerEntry] = {}
        for entry in await self._uow.ledger.open_entries_for_agent(agent.agent_id):
            if entry.instance_id not in live:
                continue
            current: LedgerEntry | None = entry
            for bucket in buckets:
                if current is None:
                    break
                price, baseline = await self._ledger.price_of(
                    current.mode, current.pool_id, current.instance_type, current.region, bucket
                )
                change = accrue(current, bucket, now, price=price, baseline=baseline)
                await self._uow.ledger.save(change.changed)
                written.update((e.entry_id, e) for e in change.changed)
                current = change.current
        if written:
            await self._uow.commit()
        else:
            await self._uow.rollback()
        return len(written)


def _checked_bucket(bucket: datetime, now: datetime) -> datetime:
    """Only a whole bucket that has ended may be accrued (LG-4 "newly completed bucket")."""
    if bucket.tzinfo is None or bucket != bucket_start(bucket):
        raise InvalidValueError("bucket", "must be a bucket start (a multiple of 300 s, UTC)")
    if bucket + PRICE_BUCKET > now:
        raise InvalidValueError("bucket", "has not completed yet")
    return bucket
