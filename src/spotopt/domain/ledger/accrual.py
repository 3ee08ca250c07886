"""Ledger entry lifecycle (§5.2): open, split at midnights and price changes, close, accrue (LG-1 … LG-6)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.ledger.entry import (
    UNCHANGED,
    UNKNOWN_PRICE,
    CloseReason,
    LedgerEntry,
    LedgerEntryId,
    LedgerPrice,
    Unchanged,
    _check_price,
)
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError
from spotopt.domain.shared.ids import new_id
from spotopt.domain.shared.time import utc

PRICE_BUCKET: Final = timedelta(seconds=300)  # PR-10
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class LedgerChange:
    """What one ledger operation did.

    ``changed``: every entry created or modified, oldest first — persist them all. ``current``: the
    instance's open entry afterwards (None once the instance's ledger is closed).
    """

    changed: tuple[LedgerEntry, ...]
    current: LedgerEntry | None

    @property
    def closed(self) -> LedgerEntry | None:
        """The latest entry this operation closed."""
        return next((e for e in reversed(self.changed) if not e.is_open), None)

    def then(self, other: LedgerChange) -> LedgerChange:
        """This change followed by ``other`` (entries listed once, in order)."""
        ids = {e.entry_id for e in self.changed}
        return LedgerChange(self.changed + tuple(e for e in other.changed if e.entry_id not in ids), other.current)


def clamp_lg3(at: datetime, started_at: datetime, now: datetime) -> datetime:
    """LG-3: an entry closes inside ``[started_at, now]``; agent-reported times are clamped into it."""
    return max(started_at, min(utc(at), now))


def clamp_lg6(at: datetime, first_seen_at: datetime, now: datetime) -> datetime:
    """LG-6: an instance accrues from when the server tracked it: never before ``first_seen_at``, never after now."""
    return max(first_seen_at, min(utc(at), now))


def _midnights(after: datetime, upto: datetime) -> Iterator[datetime]:
    midnight = datetime.combine(after.date(), datetime.min.time(), UTC) + _DAY
    while midnight <= upto:
        yield midnight
        midnight += _DAY


def _require_open(entry: LedgerEntry) -> None:
    """LG-2: a closed entry is immutable."""
    if not entry.is_open:
        raise RuleConflictError("The ledger entry is closed", code="ledger_entry_closed", entry_id=entry.entry_id)


def open_entry(
    instance: Instance,
    at: datetime,
    now: datetime,
    *,
    price: LedgerPrice = UNKNOWN_PRICE,
    baseline: Decimal | None = None,
    entry_id: str | None = None,
) -> LedgerChange:
    """Open the instance's entry in its current role (LG-6 clamp; IN-8: never for a terminated instance).

    ``baseline`` is the on-demand price of the type and region; it is kept for primary entries only.
    """
    if instance.is_terminated:
        raise RuleConflictError("A terminated instance accrues nothing", code="instance_terminated")
    entry = LedgerEntry(
        LedgerEntryId(entry_id or new_id()), instance.client_id, instance.agent_id, instance.instance_id,
        instance.role, instance.mode, instance.pool_id, instance.instance_type, instance.region,
        clamp_lg6(at, instance.first_seen_at, now),
    )  # fmt: skip
    entry._set_terms(instance.role, price, _baseline_for(instance.role, baseline))
    return LedgerChange((entry,), entry).then(split_at_midnights(entry, now))


def split_at_midnights(entry: LedgerEntry, now: datetime) -> LedgerChange:
    """LG-4: an open entry closes at every UTC midnight in ``(started_at, now]`` and continues unchanged."""
    _require_open(entry)
    changed, current = [], entry
    for midnight in _midnights(entry.started_at, now):
        successor = current._successor(midnight)
        current._close(midnight, CloseReason.DAY_BOUNDARY)
        changed += [current, successor]
        current = successor
    return LedgerChange(tuple(dict.fromkeys(changed)), current)


def close_entry(
    entry: LedgerEntry, at: datetime, reason: CloseReason, now: datetime, *, unconfirmed: bool = False
) -> LedgerChange:
    """LG-3: close at ``at`` clamped into ``[started_at, now]``, after rolling the midnights before it (LG-4)."""
    _require_open(entry)
    end = clamp_lg3(at, entry.started_at, now)
    rolled = split_at_midnights(entry, end)
    last = rolled.current or entry
    last._close(end, reason, unconfirmed=unconfirmed)
    return rolled.then(LedgerChange((last,), None))


def split_entry(
    entry: LedgerEntry,
    at: datetime,
    reason: CloseReason,
    now: datetime,
    *,
    role: InstanceRole | Unchanged = UNCHANGED,
    new_price: LedgerPrice | Unchanged = UNCHANGED,
    new_baseline: Decimal | Unchanged | None = UNCHANGED,
    entry_id: str | None = None,
) -> LedgerChange:
    """LG-1/LG-3/LG-4: close at ``at`` (clamped) and open the next entry of the instance at exactly that time.

    Terms left ``UNCHANGED`` carry over. An entry that becomes primary needs ``new_baseline`` (None = unknown).
    A split at the entry's own start adjusts the open entry in place (no empty entry; repeating a split is a no-op).
    """
    _require_open(entry)
    terms = _successor_terms(entry, role, new_price, new_baseline)
    at = clamp_lg3(at, entry.started_at, now)
    rolled = split_at_midnights(entry, at)
    current = rolled.current or entry
    if at == current.started_at:
        step = LedgerChange((current,) if current._set_terms(*terms) else (), current)
    else:
        successor = current._successor(at, entry_id)
        successor._set_terms(*terms)
        current._close(at, reason)
        step = LedgerChange((current, successor), successor)
    done = rolled.then(step)
    return done.then(split_at_midnights(step.current or current, now))


def accrue(
    entry: LedgerEntry,
    bucket_start: datetime,
    now: datetime,
    *,
    price: LedgerPrice,
    baseline: Decimal | Unchanged | None = UNCHANGED,
    bucket: timedelta = PRICE_BUCKET,
) -> LedgerChange:
    """LG-4 as the accrual job applies it for a newly completed bucket, then every UTC midnight up to now.

    ``price`` is the ledger price in effect for the bucket; ``baseline`` the current on-demand price (primaries
    only). A differing value (unknown ↔ known included) splits at the bucket start; a bucket that covers the
    entry's start re-prices it in place; a bucket older than the entry changes nothing.
    """
    _require_open(entry)
    change = LedgerChange((), entry)
    if entry.started_at < bucket_start + bucket:
        target = entry.baseline if isinstance(baseline, Unchanged) else _baseline_for(entry.role, baseline)
        if price.price != entry.price or target != entry.baseline:
            reason = CloseReason.PRICE_CHANGE if price.price != entry.price else CloseReason.BASELINE_CHANGE
            change = split_entry(entry, bucket_start, reason, now, new_price=price, new_baseline=target)
    return change.then(split_at_midnights(change.current or entry, now))


def _baseline_for(role: InstanceRole, baseline: Decimal | None) -> Decimal | None:
    if role is not InstanceRole.PRIMARY or baseline is None:
        return None
    return _check_price("baseline", baseline)


def _successor_terms(
    entry: LedgerEntry,
    role: InstanceRole | Unchanged,
    new_price: LedgerPrice | Unchanged,
    new_baseline: Decimal | Unchanged | None,
) -> tuple[InstanceRole, LedgerPrice, Decimal | None]:
    next_role = entry.role if isinstance(role, Unchanged) else role
    if next_role is InstanceRole.TERMINATED:
        raise InvalidValueError("role", "termination closes the entry (close_entry); nothing opens (IN-8)")
    quote = entry.quote if isinstance(new_price, Unchanged) else new_price
    if not isinstance(new_baseline, Unchanged):
        return next_role, quote, _baseline_for(next_role, new_baseline)
    if next_role is InstanceRole.PRIMARY and entry.role is not InstanceRole.PRIMARY:
        raise InvalidValueError("new_baseline", "an entry that becomes primary needs its baseline (None = unknown)")
    return next_role, quote, entry.baseline if next_role is InstanceRole.PRIMARY else None
