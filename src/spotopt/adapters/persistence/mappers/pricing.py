"""Pricing ingestion rows: PricingReport, PricingSubmission, SpotPool, OnDemandPrice, OnDemandObservation."""

from __future__ import annotations

from typing import Any

from spotopt.adapters.persistence.mappers.base import Mapper, json_copy
from spotopt.adapters.persistence.models.pricing import (
    OnDemandObservationModel,
    OnDemandPriceModel,
    PricingReportModel,
    PricingSubmissionModel,
    SpotPoolModel,
)
from spotopt.domain.pricing.market import OnDemandObservation, OnDemandPrice, PricingReport, PricingSubmission, SpotPool
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId


class PricingReportMapper(Mapper[PricingReport, PricingReportModel]):
    model = PricingReportModel

    def identity(self, entity: PricingReport) -> tuple[Any, ...]:
        return (entity.report_id,)

    def to_domain(self, model: PricingReportModel) -> PricingReport:
        m = model
        return PricingReport(
            report_id=m.report_id,
            client_id=ClientId(m.client_id),
            agent_id=AgentId(m.agent_id),
            instance_id=InstanceId(m.instance_id),
            instance_type=m.instance_type,
            region=m.region,
            az=m.az,
            mode=m.mode,
            received_at=m.received_at,
            pool_id=m.pool_id,
            on_demand_price=m.on_demand_price,
            current_spot_price=m.current_spot_price,
            cheapest_pool_id=m.cheapest_pool_id,
            cheapest_pool_price=m.cheapest_pool_price,
            pool_count=m.pool_count,
            pools_rejected=m.pools_rejected,
            spot_pools=json_copy(m.spot_pools),
            collected_at=m.collected_at,
            collected_at_raw=m.collected_at_raw,
        )

    def to_model(self, entity: PricingReport, model: PricingReportModel | None = None) -> PricingReportModel:
        r, m = entity, model if model is not None else PricingReportModel()
        m.report_id = r.report_id
        m.client_id = r.client_id
        m.agent_id = r.agent_id
        m.instance_id = r.instance_id
        m.instance_type = r.instance_type
        m.region = r.region
        m.az = r.az
        m.mode = r.mode
        m.received_at = r.received_at
        m.pool_id = r.pool_id
        m.on_demand_price = r.on_demand_price
        m.current_spot_price = r.current_spot_price
        m.cheapest_pool_id = r.cheapest_pool_id
        m.cheapest_pool_price = r.cheapest_pool_price
        m.pool_count = r.pool_count
        m.pools_rejected = r.pools_rejected
        m.spot_pools = json_copy(r.spot_pools)
        m.collected_at = r.collected_at
        m.collected_at_raw = r.collected_at_raw
        return m


class PricingSubmissionMapper(Mapper[PricingSubmission, PricingSubmissionModel]):
    model = PricingSubmissionModel

    def identity(self, entity: PricingSubmission) -> tuple[Any, ...]:
        return (entity.submission_id,)

    def to_domain(self, model: PricingSubmissionModel) -> PricingSubmission:
        m = model
        return PricingSubmission(
            submission_id=m.submission_id,
            pool_id=m.pool_id,
            instance_type=m.instance_type,
            region=m.region,
            az=m.az,
            spot_price=m.spot_price,
            observed_at=m.observed_at,
            received_at=m.received_at,
            source_type=SourceType(m.source_type),
            agent_id=AgentId(m.agent_id),
            instance_id=InstanceId(m.instance_id),
            client_id=ClientId(m.client_id),
            report_id=m.report_id,
            is_valid=m.is_valid,
            validation_flags=list(m.validation_flags),
            ondemand_price=m.ondemand_price,
            collected_at=m.collected_at,
            processed_at=m.processed_at,
            outcome=m.outcome,
        )

    def to_model(
        self, entity: PricingSubmission, model: PricingSubmissionModel | None = None
    ) -> PricingSubmissionModel:
        s, m = entity, model if model is not None else PricingSubmissionModel()
        m.submission_id = s.submission_id
        m.pool_id = s.pool_id
        m.instance_type = s.instance_type
        m.region = s.region
        m.az = s.az
        m.spot_price = s.spot_price
        m.observed_at = s.observed_at
        m.received_at = s.received_at
        m.source_type = s.source_type.value
        m.agent_id = s.agent_id
        m.instance_id = s.instance_id
        m.client_id = s.client_id
        m.report_id = s.report_id
        m.is_valid = s.is_valid
        m.validation_flags = list(s.validation_flags)
        m.ondemand_price = s.ondemand_price
        m.collected_at = s.collected_at
        m.processed_at = s.processed_at
        m.outcome = s.outcome
        return m


class SpotPoolMapper(Mapper[SpotPool, SpotPoolModel]):
    model = SpotPoolModel

    def identity(self, entity: SpotPool) -> tuple[Any, ...]:
        return (entity.pool_id,)

    def to_domain(self, model: SpotPoolModel) -> SpotPool:
        m = model
        return SpotPool(
            pool_id=m.pool_id,
            instance_type=m.instance_type,
            region=m.region,
            az=m.az,
            first_seen_at=m.first_seen_at,
            last_seen_at=m.last_seen_at,
        )

    def to_model(self, entity: SpotPool, model: SpotPoolModel | None = None) -> SpotPoolModel:
        p, m = entity, model if model is not None else SpotPoolModel()
        m.pool_id = p.pool_id
        m.instance_type = p.instance_type
        m.region = p.region
        m.az = p.az
        m.first_seen_at = p.first_seen_at
        m.last_seen_at = p.last_seen_at
        return m


class OnDemandPriceMapper(Mapper[OnDemandPrice, OnDemandPriceModel]):
    model = OnDemandPriceModel

    def identity(self, entity: OnDemandPrice) -> tuple[Any, ...]:
        return (entity.instance_type, entity.region)

    def to_domain(self, model: OnDemandPriceModel) -> OnDemandPrice:
        m = model
        return OnDemandPrice(
            instance_type=m.instance_type,
            region=m.region,
            price=m.price,
            source=m.source,
            observed_at=m.observed_at,
            observation_count=m.observation_count,
        )

    def to_model(self, entity: OnDemandPrice, model: OnDemandPriceModel | None = None) -> OnDemandPriceModel:
        p, m = entity, model if model is not None else OnDemandPriceModel()
        m.instance_type = p.instance_type
        m.region = p.region
        m.price = p.price
        m.source = p.source
        m.observed_at = p.observed_at
        m.observation_count = p.observation_count
        return m


class OnDemandObservationMapper(Mapper[OnDemandObservation, OnDemandObservationModel]):
    model = OnDemandObservationModel

    def identity(self, entity: OnDemandObservation) -> tuple[Any, ...]:
        return (entity.observation_id,)

    def to_domain(self, model: OnDemandObservationModel) -> OnDemandObservation:
        m = model
        return OnDemandObservation(
            observation_id=m.observation_id,
            instance_type=m.instance_type,
            region=m.region,
            price=m.price,
            source=m.source,
            observed_at=m.observed_at,
            is_valid=m.is_valid,
            flags=list(m.flags),
            agent_id=None if m.agent_id is None else AgentId(m.agent_id),
        )

    def to_model(
        self, entity: OnDemandObservation, model: OnDemandObservationModel | None = None
    ) -> OnDemandObservationModel:
        o, m = entity, model if model is not None else OnDemandObservationModel()
        m.observation_id = o.observation_id
        m.instance_type = o.instance_type
        m.region = o.region
        m.price = o.price
        m.source = o.source
        m.observed_at = o.observed_at
        m.is_valid = o.is_valid
        m.flags = list(o.flags)
        m.agent_id = o.agent_id
        return m


REPORTS = PricingReportMapper()
SUBMISSIONS = PricingSubmissionMapper()
POOLS = SpotPoolMapper()
ONDEMAND_PRICES = OnDemandPriceMapper()
ONDEMAND_OBSERVATIONS = OnDemandObservationMapper()
