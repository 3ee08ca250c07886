"""CleanPriceBucket and InterpolationRecord (its neighbours and peers as JSON objects) ↔ their rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from spotopt.adapters.persistence.mappers.base import Mapper, text_or_none, value_or_none
from spotopt.adapters.persistence.models.pricing import InterpolationRecordModel, PriceBucketModel
from spotopt.domain.pricing.buckets import CleanPriceBucket, DataSource, InterpolationMethod
from spotopt.domain.pricing.gaps import InterpolationRecord, Neighbour, PeerChange
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.ids import AgentId, InstanceId


class PriceBucketMapper(Mapper[CleanPriceBucket, PriceBucketModel]):
    model = PriceBucketModel

    def identity(self, entity: CleanPriceBucket) -> tuple[Any, ...]:
        return (entity.pool_id, entity.bucket_start)

    def to_domain(self, model: PriceBucketModel) -> CleanPriceBucket:
        m = model
        return CleanPriceBucket(
            pool_id=m.pool_id,
            instance_type=m.instance_type,
            region=m.region,
            az=m.az,
            bucket_start=m.bucket_start,
            spot_price=m.spot_price,
            source_type=SourceType(m.source_type),
            confidence=m.confidence,
            data_source=DataSource(m.data_source),
            created_at=m.created_at,
            updated_at=m.updated_at,
            ondemand_price=m.ondemand_price,
            savings_percent=m.savings_percent,
            interpolation_method=None
            if m.interpolation_method is None
            else InterpolationMethod(m.interpolation_method),
            source_submission_id=m.source_submission_id,
            source_agent_id=None if m.source_agent_id is None else AgentId(m.source_agent_id),
            source_instance_id=None if m.source_instance_id is None else InstanceId(m.source_instance_id),
            fill_id=m.fill_id,
            observation_count=m.observation_count,
            discrepancy=m.discrepancy,
        )

    def to_model(self, entity: CleanPriceBucket, model: PriceBucketModel | None = None) -> PriceBucketModel:
        b, m = entity, model if model is not None else PriceBucketModel()
        m.pool_id = b.pool_id
        m.instance_type = b.instance_type
        m.region = b.region
        m.az = b.az
        m.bucket_start = b.bucket_start
        m.spot_price = b.spot_price
        m.source_type = b.source_type.value
        m.confidence = b.confidence
        m.data_source = b.data_source.value
        m.created_at = b.created_at
        m.updated_at = b.updated_at
        m.ondemand_price = b.ondemand_price
        m.savings_percent = b.savings_percent
        m.interpolation_method = value_or_none(b.interpolation_method)
        m.source_submission_id = b.source_submission_id
        m.source_agent_id = b.source_agent_id
        m.source_instance_id = b.source_instance_id
        m.fill_id = b.fill_id
        m.observation_count = b.observation_count
        m.discrepancy = b.discrepancy
        return m


def _neighbour_json(n: Neighbour) -> dict[str, Any]:
    return {
        "pool_id": n.pool_id,
        "bucket_start": text_or_none(n.bucket_start),
        "price": text_or_none(n.price),
        "weight": text_or_none(n.weight),
    }


def _neighbour(doc: dict[str, Any]) -> Neighbour:
    return Neighbour(
        pool_id=doc["pool_id"],
        bucket_start=datetime.fromisoformat(doc["bucket_start"]),
        price=Decimal(doc["price"]),
        weight=Decimal(doc["weight"]),
    )


def _peer_json(p: PeerChange) -> dict[str, Any]:
    return {
        "pool_id": p.pool_id,
        "base_bucket_start": text_or_none(p.base_bucket_start),
        "base_price": text_or_none(p.base_price),
        "bucket_start": text_or_none(p.bucket_start),
        "price": text_or_none(p.price),
        "ratio": text_or_none(p.ratio),
    }


def _peer(doc: dict[str, Any]) -> PeerChange:
    return PeerChange(
        pool_id=doc["pool_id"],
        base_bucket_start=datetime.fromisoformat(doc["base_bucket_start"]),
        base_price=Decimal(doc["base_price"]),
        bucket_start=datetime.fromisoformat(doc["bucket_start"]),
        price=Decimal(doc["price"]),
        ratio=Decimal(doc["ratio"]),
    )


class InterpolationRecordMapper(Mapper[InterpolationRecord, InterpolationRecordModel]):
    model = InterpolationRecordModel

    def identity(self, entity: InterpolationRecord) -> tuple[Any, ...]:
        return (entity.record_id,)

    def to_domain(self, model: InterpolationRecordModel) -> InterpolationRecord:
        m = model
        return InterpolationRecord(
            record_id=m.record_id,
            pool_id=m.pool_id,
            bucket_start=m.bucket_start,
            fill_id=m.fill_id,
            method=InterpolationMethod(m.method),
            confidence=m.confidence,
            n=m.n,
            t_b=m.t_b,
            p_b=m.p_b,
            t_a=m.t_a,
            p_a=m.p_a,
            result=m.result,
            created_at=m.created_at,
            neighbours=tuple(_neighbour(doc) for doc in m.neighbours),
            peers=tuple(_peer(doc) for doc in m.peers),
            superseded_at=m.superseded_at,
        )

    def to_model(
        self, entity: InterpolationRecord, model: InterpolationRecordModel | None = None
    ) -> InterpolationRecordModel:
        r, m = entity, model if model is not None else InterpolationRecordModel()
        m.record_id = r.record_id
        m.pool_id = r.pool_id
        m.bucket_start = r.bucket_start
        m.fill_id = r.fill_id
        m.method = r.method.value
        m.confidence = r.confidence
        m.n = r.n
        m.t_b = r.t_b
        m.p_b = r.p_b
        m.t_a = r.t_a
        m.p_a = r.p_a
        m.result = r.result
        m.created_at = r.created_at
        m.neighbours = [_neighbour_json(n) for n in r.neighbours]
        m.peers = [_peer_json(p) for p in r.peers]
        m.superseded_at = r.superseded_at
        return m


BUCKETS = PriceBucketMapper()
INTERPOLATION_RECORDS = InterpolationRecordMapper()
