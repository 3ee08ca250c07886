"""A6 request shape and mapping (api.md A6, §1.6; agent-v4-wire.md W22) and the use cases' container wiring."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from spotopt.application.pricing.aggregate_pricing import AggregatePricing
from spotopt.application.pricing.fill_price_gaps import FillPriceGaps
from spotopt.application.pricing.record_pricing_report import RecordPricingReport, RecordPricingReportResult
from spotopt.bootstrap.container import make_container
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.pools import Mode
from spotopt.entrypoints.http.pricing.schemas import (
    PricingReportRequest,
    PricingReportResponse,
    parse_collected_at,
    to_command,
    to_response,
)
from tests.http_app import make_settings
from tests.services import sqlite_url

BODY: dict[str, Any] = {
    "instance": {
        "instance_id": "i-0a1b2c3d4e5f67890",
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1a",
        "mode": "spot",
        "pool_id": "t3.medium.us-east-1a",
    },
    "pricing": {
        "on_demand_price": 0.0416,
        "current_spot_price": 0.0125,
        "cheapest_pool": {"pool_id": "t3.medium.us-east-1a", "price": 0.0125},
        "spot_pools": [
            {"pool_id": "t3.medium.us-east-1a", "instance_type": "t3.medium", "az": "us-east-1a", "price": 0.0125}
        ],
        "collected_at": "2026-11-28T09:26:29.481203+00:00",
    },
}


def decode(body: dict[str, Any]) -> PricingReportRequest:
    return msgspec.json.decode(msgspec.json.encode(body), type=PricingReportRequest)


def with_pricing(**changes: Any) -> dict[str, Any]:
    return {**BODY, "pricing": {**BODY["pricing"], **changes}}


def with_instance(**changes: Any) -> dict[str, Any]:
    return {**BODY, "instance": {**BODY["instance"], **changes}}


def test_a6_maps_the_body_to_the_command_keeping_the_raw_claim() -> None:
    command = to_command(ClientId("c"), "a", decode(BODY))

    assert command.collected_at == datetime(2026, 11, 28, 9, 26, 29, 481203, tzinfo=UTC)
    assert command.collected_at_raw == "2026-11-28T09:26:29.481203+00:00"
    assert command.instance.mode is Mode.SPOT
    assert command.on_demand_price == Decimal("0.0416"), "the number as written, not its float expansion"
    assert command.spot_pools[0].price == Decimal("0.0125")
    assert command.spot_pools[0].instance_type == "t3.medium"
    assert command.cheapest_pool is not None
    assert command.cheapest_pool.price == Decimal("0.0125")


def test_a6_unknown_fields_are_ignored_and_optional_parts_default() -> None:
    body = {
        "instance": {k: v for k, v in BODY["instance"].items() if k not in {"mode", "pool_id"}} | {"extra": 1},
        "pricing": {"spot_pools": [], "future_field": True},
        "agent_version": "4.0.0",
    }
    command = to_command(ClientId("c"), "a", decode(body))

    assert command.instance.mode is Mode.UNKNOWN
    assert (command.on_demand_price, command.cheapest_pool, command.collected_at, command.spot_pools) == (
        None,
        None,
        None,
        (),
    )


@pytest.mark.parametrize(
    "body",
    [
        with_instance(instance_id="i-123"),
        with_instance(instance_type=""),
        with_instance(region="r" * 33),
        with_instance(mode="preemptible"),
        {"pricing": BODY["pricing"]},
        {"instance": BODY["instance"]},
        with_pricing(spot_pools=[BODY["pricing"]["spot_pools"][0]] * 101),
        with_pricing(spot_pools=[{"pool_id": "x", "az": "y", "price": "cheap"}]),
        with_pricing(spot_pools=[{"pool_id": "x", "price": 0.1}]),
        with_pricing(on_demand_price=True),
        with_pricing(cheapest_pool={"pool_id": "x"}),
    ],
    ids=[
        "bad-instance-id",
        "empty-type",
        "long-region",
        "bad-mode",
        "no-instance",
        "no-pricing",
        "101-pools",
        "price-not-a-number",
        "item-without-az",
        "bool-price",
        "cheapest-without-price",
    ],
)
def test_a6_types_and_instance_facts_are_validated_strictly(body: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(body)


def test_a6_item_values_are_not_validated_here() -> None:
    body = with_pricing(spot_pools=[{"pool_id": "nonsense", "az": "mars-1a", "price": -5}])
    assert to_command(ClientId("c"), "a", decode(body)).spot_pools[0].price == Decimal(-5)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-28T09:26:29Z", datetime(2026, 11, 28, 9, 26, 29, tzinfo=UTC)),
        ("2026-11-28T10:26:29+01:00", datetime(2026, 11, 28, 9, 26, 29, tzinfo=UTC)),
        ("2026-11-28T09:26:29", datetime(2026, 11, 28, 9, 26, 29, tzinfo=UTC)),
        ("2026-11-28T09:26:29.5-00:30", datetime(2026, 11, 28, 9, 56, 29, 500000, tzinfo=UTC)),
        ("2026-11-28T09:26:29.123456789Z", datetime(2026, 11, 28, 9, 26, 29, 123456, tzinfo=UTC)),
    ],
)
def test_section_1_6_collected_at_accepts_z_offsets_and_naive_utc(raw: str, expected: datetime) -> None:
    assert parse_collected_at(raw) == expected


@pytest.mark.parametrize("raw", ["2026-11-28", "yesterday", "2026-02-30T10:00:00Z", "2026-11-28 09:26:29", ""])
def test_section_1_6_any_other_collected_at_is_a_validation_error(raw: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        to_command(ClientId("c"), "a", decode(with_pricing(collected_at=raw)))
    assert caught.value.field == "pricing.collected_at"


def test_a6_response_shape() -> None:
    response = to_response(RecordPricingReportResult(report_id="r-1", pools_accepted=6, pools_rejected=1))
    assert msgspec.to_builtins(response) == {
        "success": True,
        "report_id": "r-1",
        "pools_accepted": 6,
        "pools_rejected": 1,
    }
    assert isinstance(response, PricingReportResponse)


async def test_pricing_use_cases_are_wired_in_the_container(tmp_path: Path) -> None:
    container = make_container(make_settings(sqlite_url(tmp_path), tmp_path))
    try:
        async with container() as request:
            for use_case in (RecordPricingReport, AggregatePricing, FillPriceGaps):
                assert isinstance(await request.get(use_case), use_case)
    finally:
        await container.close()
