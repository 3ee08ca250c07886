"""LedgerEntry and the savings and growth snapshots (``SnapshotFigures`` flattened) ↔ their rows."""

from __future__ import annotations

from typing import Any

from spotopt.adapters.persistence.mappers.base import Mapper, sorted_values, value_or_none
from spotopt.adapters.persistence.models.ledger import (
    ClientGrowthModel,
    LedgerEntryModel,
    SavingsDailyModel,
    SavingsMonthlyModel,
)
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.ledger.entry import CloseReason, LedgerEntry, LedgerEntryId, PriceFlag
from spotopt.domain.ledger.snapshots import (
    ClientGrowthSnapshot,
    SavingsDailySnapshot,
    SavingsMonthlySnapshot,
    SnapshotFigures,
)
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from spotopt.domain.shared.pools import Mode


class LedgerEntryMapper(Mapper[LedgerEntry, LedgerEntryModel]):
    model = LedgerEntryModel

    def identity(self, entity: LedgerEntry) -> tuple[Any, ...]:
        return (entity.entry_id,)

    def to_domain(self, model: LedgerEntryModel) -> LedgerEntry:
        m = model
        return LedgerEntry(
            entry_id=LedgerEntryId(m.entry_id),
            client_id=ClientId(m.client_id),
            agent_id=AgentId(m.agent_id),
            instance_id=InstanceId(m.instance_id),
            role=InstanceRole(m.role),
            mode=Mode(m.mode),
            pool_id=m.pool_id,
            instance_type=m.instance_type,
            region=m.region,
            started_at=m.started_at,
            ended_at=m.ended_at,
            price=m.price,
            price_bucket_start=m.price_bucket_start,
            price_confidence=m.price_confidence,
            price_flags=frozenset(PriceFlag(flag) for flag in m.price_flags),
            baseline=m.baseline,
            hours=m.hours,
            cost=m.cost,
            baseline_cost=m.baseline_cost,
            savings=m.savings,
            close_reason=None if m.close_reason is None else CloseReason(m.close_reason),
            end_unconfirmed=m.end_unconfirmed,
        )

    def to_model(self, entity: LedgerEntry, model: LedgerEntryModel | None = None) -> LedgerEntryModel:
        e, m = entity, model if model is not None else LedgerEntryModel()
        m.entry_id = e.entry_id
        m.client_id = e.client_id
        m.agent_id = e.agent_id
        m.instance_id = e.instance_id
        m.role = e.role.value
        m.mode = e.mode.value
        m.pool_id = e.pool_id
        m.instance_type = e.instance_type
        m.region = e.region
        m.started_at = e.started_at
        m.ended_at = e.ended_at
        m.price = e.price
        m.price_bucket_start = e.price_bucket_start
        m.price_confidence = e.price_confidence
        m.price_flags = sorted_values(e.price_flags)
        m.baseline = e.baseline
        m.hours = e.hours
        m.cost = e.cost
        m.baseline_cost = e.baseline_cost
        m.savings = e.savings
        m.close_reason = value_or_none(e.close_reason)
        m.end_unconfirmed = e.end_unconfirmed
        # IN-8/LG-1: at most one open entry per instance.
        m.open_key = e.instance_id if e.ended_at is None else None
        return m


def _figures(m: SavingsDailyModel | SavingsMonthlyModel) -> SnapshotFigures:
    return SnapshotFigures(
        baseline_cost=m.baseline_cost,
        primary_cost=m.primary_cost,
        overhead_cost=m.overhead_cost,
        actual_cost=m.actual_cost,
        savings=m.savings,
        savings_percent=m.savings_percent,
        primary_hours=m.primary_hours,
        spot_hours=m.spot_hours,
        ondemand_hours=m.ondemand_hours,
        standby_hours=m.standby_hours,
        kept_old_hours=m.kept_old_hours,
        unpriced_hours=m.unpriced_hours,
        priced_primary_hours=m.priced_primary_hours,
        coverage=m.coverage,
        switch_count=m.switch_count,
        failover_count=m.failover_count,
    )


def _set_figures(m: SavingsDailyModel | SavingsMonthlyModel, f: SnapshotFigures) -> None:
    m.baseline_cost = f.baseline_cost
    m.primary_cost = f.primary_cost
    m.overhead_cost = f.overhead_cost
    m.actual_cost = f.actual_cost
    m.savings = f.savings
    m.savings_percent = f.savings_percent
    m.primary_hours = f.primary_hours
    m.spot_hours = f.spot_hours
    m.ondemand_hours = f.ondemand_hours
    m.standby_hours = f.standby_hours
    m.kept_old_hours = f.kept_old_hours
    m.unpriced_hours = f.unpriced_hours
    m.priced_primary_hours = f.priced_primary_hours
    m.coverage = f.coverage
    m.switch_count = f.switch_count
    m.failover_count = f.failover_count


class SavingsDailyMapper(Mapper[SavingsDailySnapshot, SavingsDailyModel]):
    model = SavingsDailyModel

    def identity(self, entity: SavingsDailySnapshot) -> tuple[Any, ...]:
        return (entity.client_id, entity.day)

    def to_domain(self, model: SavingsDailyModel) -> SavingsDailySnapshot:
        m = model
        return SavingsDailySnapshot(
            client_id=ClientId(m.client_id),
            day=m.day,
            figures=_figures(m),
            instance_count=m.instance_count,
            final=m.final,
            computed_at=m.computed_at,
        )

    def to_model(self, entity: SavingsDailySnapshot, model: SavingsDailyModel | None = None) -> SavingsDailyModel:
        s, m = entity, model if model is not None else SavingsDailyModel()
        m.client_id = s.client_id
        m.day = s.day
        _set_figures(m, s.figures)
        m.instance_count = s.instance_count
        m.final = s.final
        m.computed_at = s.computed_at
        return m


class SavingsMonthlyMapper(Mapper[SavingsMonthlySnapshot, SavingsMonthlyModel]):
    model = SavingsMonthlyModel

    def identity(self, entity: SavingsMonthlySnapshot) -> tuple[Any, ...]:
        return entity.key

    def to_domain(self, model: SavingsMonthlyModel) -> SavingsMonthlySnapshot:
        m = model
        return SavingsMonthlySnapshot(
            client_id=ClientId(m.client_id),
            year=m.year,
            month=m.month,
            figures=_figures(m),
            days=m.days,
            final=m.final,
            computed_at=m.computed_at,
        )

    def to_model(self, entity: SavingsMonthlySnapshot, model: SavingsMonthlyModel | None = None) -> SavingsMonthlyModel:
        s, m = entity, model if model is not None else SavingsMonthlyModel()
        m.client_id = s.client_id
        m.year = s.year
        m.month = s.month
        _set_figures(m, s.figures)
        m.days = s.days
        m.final = s.final
        m.computed_at = s.computed_at
        return m


class ClientGrowthMapper(Mapper[ClientGrowthSnapshot, ClientGrowthModel]):
    model = ClientGrowthModel

    def identity(self, entity: ClientGrowthSnapshot) -> tuple[Any, ...]:
        return (entity.day,)

    def to_domain(self, model: ClientGrowthModel) -> ClientGrowthSnapshot:
        m = model
        return ClientGrowthSnapshot(
            day=m.day,
            total_clients=m.total_clients,
            new_clients=m.new_clients,
            active_clients=m.active_clients,
            computed_at=m.computed_at,
        )

    def to_model(self, entity: ClientGrowthSnapshot, model: ClientGrowthModel | None = None) -> ClientGrowthModel:
        g, m = entity, model if model is not None else ClientGrowthModel()
        m.day = g.day
        m.total_clients = g.total_clients
        m.new_clients = g.new_clients
        m.active_clients = g.active_clients
        m.computed_at = g.computed_at
        return m


LEDGER_ENTRIES = LedgerEntryMapper()
SAVINGS_DAILY = SavingsDailyMapper()
SAVINGS_MONTHLY = SavingsMonthlyMapper()
CLIENT_GROWTH = ClientGrowthMapper()
