"""A6 pricing report: request and response shapes and the request → command mapping (api.md A6, W22).

Types and the instance facts are validated strictly (400); pool items only by type here — their values are
validated by the use case (PR-5), which stores failing items flagged instead of rejecting the report. Unknown
fields are ignored, as on every agent route (§1.4).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

import msgspec

from spotopt.application.pricing.record_pricing_report import (
    CheapestPool,
    RecordPricingReportCommand,
    RecordPricingReportResult,
    ReportedInstance,
    ReportedPool,
)
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.pools import Mode
from spotopt.domain.shared.time import utc
from spotopt.entrypoints.http.wire import Ec2Id, ModeName

MAX_SPOT_POOLS = 100
# api.md §1.6: ISO-8601 with ``Z``, a numeric offset, or none (UTC); fractional seconds allowed.
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$")
_FRACTION = re.compile(r"\.(\d{6})\d+")

Text = Annotated[str, msgspec.Meta(max_length=255)]


class PricingInstance(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: Ec2Id
    instance_type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    region: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    az: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    mode: ModeName = "unknown"
    pool_id: Text | None = None


class CheapestPoolBody(msgspec.Struct, frozen=True, kw_only=True):
    pool_id: Text
    price: float


class SpotPoolItem(msgspec.Struct, frozen=True, kw_only=True):
    pool_id: Text
    az: Text
    price: float
    instance_type: Text | None = None


class PricingBody(msgspec.Struct, frozen=True, kw_only=True):
    openapi_extra: ClassVar[dict[str, Any]] = {  # §1.6, parse_collected_at
        "properties": {"collected_at": {"format": "date-time", "pattern": _DATETIME.pattern}}
    }

    on_demand_price: float | None = None
    current_spot_price: float | None = None
    cheapest_pool: CheapestPoolBody | None = None
    spot_pools: Annotated[list[SpotPoolItem], msgspec.Meta(max_length=MAX_SPOT_POOLS)] = []
    collected_at: Text | None = None


class PricingReportRequest(msgspec.Struct, frozen=True, kw_only=True):
    instance: PricingInstance
    pricing: PricingBody


class PricingReportResponse(msgspec.Struct, frozen=True, kw_only=True):
    success: bool
    report_id: str
    pools_accepted: int
    pools_rejected: int


def parse_collected_at(raw: str | None) -> datetime | None:
    """§1.6 input datetimes: ``Z``, numeric offset (converted to UTC) or naive (UTC); anything else → 400."""
    if raw is None:
        return None
    if not _DATETIME.match(raw):
        raise InvalidValueError("pricing.collected_at", "must be an ISO-8601 date-time")
    try:
        # Python keeps microseconds: drop extra fractional digits rather than round into the next second.
        return utc(datetime.fromisoformat(_FRACTION.sub(r".\1", raw)))
    except ValueError as exc:
        raise InvalidValueError("pricing.collected_at", "must be an ISO-8601 date-time") from exc


def _price(value: float | None) -> Decimal | None:
    """The number as written on the wire (shortest round-trip form), not its binary float expansion."""
    return None if value is None else Decimal(repr(value))


def to_command(client_id: ClientId, agent_id: str, body: PricingReportRequest) -> RecordPricingReportCommand:
    facts, pricing = body.instance, body.pricing
    cheapest = pricing.cheapest_pool
    return RecordPricingReportCommand(
        client_id=client_id,
        agent_id=agent_id,
        instance=ReportedInstance(
            instance_id=facts.instance_id,
            instance_type=facts.instance_type,
            region=facts.region,
            az=facts.az,
            mode=Mode(facts.mode),
            pool_id=facts.pool_id,
        ),
        on_demand_price=_price(pricing.on_demand_price),
        current_spot_price=_price(pricing.current_spot_price),
        cheapest_pool=CheapestPool(pool_id=cheapest.pool_id, price=Decimal(repr(cheapest.price)))
        if cheapest is not None
        else None,
        spot_pools=tuple(
            ReportedPool(pool_id=p.pool_id, az=p.az, price=Decimal(repr(p.price)), instance_type=p.instance_type)
            for p in pricing.spot_pools
        ),
        collected_at=parse_collected_at(pricing.collected_at),
        collected_at_raw=pricing.collected_at,
    )


def to_response(result: RecordPricingReportResult) -> PricingReportResponse:
    return PricingReportResponse(
        success=True,
        report_id=result.report_id,
        pools_accepted=result.pools_accepted,
        pools_rejected=result.pools_rejected,
    )
