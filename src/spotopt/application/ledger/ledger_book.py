"""Keeping the savings ledger in step with instance roles inside a use case's transaction (IN-8, §5.2)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.instance import Instance
from spotopt.domain.ledger.accrual import LedgerChange, close_entry, open_entry, split_entry
from spotopt.domain.ledger.entry import UNKNOWN_PRICE, CloseReason, LedgerPrice, PriceFlag
from spotopt.domain.pricing.price_in_effect import ledger_price, ondemand_in_effect
from spotopt.domain.shared.pools import Mode


class LedgerBook:
    """Opens, splits and closes ledger entries as instances change role.

    - Every non-terminated instance has exactly one open entry (IN-8); a terminated one has none.
    - Prices come from the ledger price in effect (PR-25) or the on-demand catalogue (PR-26); unknown stays
      unknown (LG-7). The accrual job re-prices entries as buckets arrive (LG-4).
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def quote(self, instance: Instance, at: datetime) -> tuple[LedgerPrice, Decimal | None]:
        """The instance's price and its type's on-demand baseline at ``at``."""
        return await self.price_of(instance.mode, instance.pool_id, instance.instance_type, instance.region, at)

    async def price_of(
        self, mode: Mode | None, pool_id: str | None, instance_type: str, region: str, at: datetime
    ) -> tuple[LedgerPrice, Decimal | None]:
        """Ledger price (PR-25) of a placement and the on-demand baseline (PR-26) at ``at``; unknown stays unknown."""
        ondemand = ondemand_in_effect(await self._uow.pricing.get_ondemand(instance_type, region), at)
        baseline = ondemand.price if ondemand is not None else None
        if mode is Mode.ONDEMAND:
            if ondemand is None:
                return UNKNOWN_PRICE, None
            flags = frozenset({PriceFlag.STALE_ONDEMAND}) if ondemand.stale else frozenset()
            return LedgerPrice(ondemand.price, flags=flags), baseline
        if mode is not Mode.SPOT or pool_id is None:
            return UNKNOWN_PRICE, baseline
        buckets = await self._uow.buckets.latest([pool_id], at)
        spot = ledger_price(buckets.values(), pool_id, at)
        if spot is None:
            return UNKNOWN_PRICE, baseline
        spot_flags: set[PriceFlag] = {PriceFlag.CARRIED_FORWARD} if spot.carried_forward else set()
        if spot.interpolated:
            spot_flags.add(PriceFlag.INTERPOLATED)
        return LedgerPrice(spot.price, spot.bucket_start, spot.confidence, frozenset(spot_flags)), baseline

    async def open(self, instance: Instance, at: datetime, now: datetime) -> None:
        if await self._uow.ledger.open_entry(instance.client_id, instance.instance_id) is not None:
            return
        price, baseline = await self.quote(instance, at)
        await self._save(open_entry(instance, at, now, price=price, baseline=baseline))

    async def role_changed(self, instance: Instance, at: datetime, now: datetime, reason: CloseReason) -> None:
        """The instance took a new (non-terminated) role at ``at``: close its entry there and open the next."""
        entry = await self._uow.ledger.open_entry(instance.client_id, instance.instance_id)
        if entry is None:
            await self.open(instance, at, now)
            return
        price, baseline = await self.quote(instance, at)
        change = split_entry(entry, at, reason, now, role=instance.role, new_price=price, new_baseline=baseline)
        await self._save(change)

    async def closed(
        self, instance: Instance, at: datetime, now: datetime, reason: CloseReason, *, unconfirmed: bool = False
    ) -> None:
        """The instance stopped at ``at`` (clamped into the entry, LG-3); nothing opens."""
        entry = await self._uow.ledger.open_entry(instance.client_id, instance.instance_id)
        if entry is not None:
            await self._save(close_entry(entry, at, reason, now, unconfirmed=unconfirmed))

    async def _save(self, change: LedgerChange) -> None:
        await self._uow.ledger.save(change.changed)
