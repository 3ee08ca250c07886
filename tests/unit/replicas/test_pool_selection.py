"""Replica pool choice: emergency selection (domain §3.7.1) and the manual standby (§7.2 U1); RP-1."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.domain.replicas.pool_selection import PoolCandidate, select_emergency_pool, select_standby_pool
from spotopt.domain.shared.errors import InvalidValueError

TYPE, REGION = "t3.medium", "us-east-1"
PRIMARY = "t3.medium.us-east-1a"
THRESHOLD = Decimal("0.30")


def make_pool(az: str = "us-east-1b", **overrides: Any) -> PoolCandidate:
    fields: dict[str, Any] = {
        "pool_id": f"{overrides.pop('instance_type', TYPE)}.{az}",
        "az": az,
        "available": True,
        "price": Decimal("0.0112"),
        "risk": Decimal("0.10"),
        "blocklisted": False,
    }
    fields.update(overrides)
    return PoolCandidate(**fields)


def emergency(pools: list[PoolCandidate], **overrides: Any) -> str | None:
    args: dict[str, Any] = {
        "primary_pool_id": PRIMARY,
        "instance_type": TYPE,
        "region": REGION,
        "risk_threshold": THRESHOLD,
    }
    args.update(overrides)
    chosen = select_emergency_pool(pools, **args)
    return chosen.az if chosen else None


def standby(pools: list[PoolCandidate], **overrides: Any) -> str | None:
    args: dict[str, Any] = {
        "primary_pool_id": PRIMARY,
        "instance_type": TYPE,
        "region": REGION,
        "risk_threshold": THRESHOLD,
    }
    args.update(overrides)
    chosen = select_standby_pool(pools, **args)
    return chosen.az if chosen else None


def test_rp1_step1_never_the_primarys_pool_even_when_it_is_the_best() -> None:
    pools = [make_pool("us-east-1a", risk=Decimal(0)), make_pool("us-east-1b", risk=Decimal("0.2"))]

    assert emergency(pools) == "us-east-1b"


@pytest.mark.parametrize(
    "excluded",
    [
        make_pool("us-east-1c", available=False),
        make_pool("us-east-1c", instance_type="t3.large"),
        make_pool("us-west-2a"),
    ],
    ids=["unavailable", "other-type", "other-region"],
)
def test_domain_371_step1_only_available_pools_of_the_primarys_type_and_region(excluded: PoolCandidate) -> None:
    assert emergency([excluded]) is None
    assert standby([excluded]) is None


def test_domain_371_step1_request_excluded_zones_are_removed() -> None:
    pools = [make_pool("us-east-1b", risk=Decimal(0)), make_pool("us-east-1c")]

    assert emergency(pools, exclude_zones=["us-east-1b"]) == "us-east-1c"


def test_domain_371_step2_tier1_safe_pool_beats_a_cheaper_risky_one() -> None:
    pools = [make_pool("us-east-1b", risk=Decimal("0.5"), price=Decimal("0.001")), make_pool("us-east-1c")]

    assert emergency(pools) == "us-east-1c"


def test_domain_371_step2_tier2_when_no_pool_is_under_the_risk_threshold() -> None:
    pools = [
        make_pool("us-east-1b", risk=Decimal("0.9")),
        make_pool("us-east-1c", risk=Decimal("0.6")),
        make_pool("us-east-1d", risk=Decimal("0.0"), blocklisted=True),
    ]

    assert emergency(pools) == "us-east-1c"


def test_domain_371_step2_tier3_blocklisted_pool_only_as_last_resort() -> None:
    assert emergency([make_pool("us-east-1d", blocklisted=True)]) == "us-east-1d"


def test_domain_371_step3_preferred_zone_first_inside_the_tier() -> None:
    pools = [make_pool("us-east-1b", risk=Decimal("0.01")), make_pool("us-east-1c", risk=Decimal("0.2"))]

    assert emergency(pools, preferred_zones=["us-east-1c"]) == "us-east-1c"


def test_domain_371_step3_lower_risk_before_lower_price() -> None:
    pools = [
        make_pool("us-east-1b", risk=Decimal("0.2"), price=Decimal("0.001")),
        make_pool("us-east-1c", risk=Decimal("0.1"), price=Decimal("0.5")),
    ]

    assert emergency(pools) == "us-east-1c"


def test_domain_371_step3_lower_price_then_unknown_price_then_pool_id() -> None:
    pools = [
        make_pool("us-east-1e", price=None),
        make_pool("us-east-1d", price=Decimal("0.02")),
        make_pool("us-east-1c", price=Decimal("0.01")),
    ]

    assert emergency(pools) == "us-east-1c"
    assert emergency(pools[:2]) == "us-east-1d"
    assert emergency([make_pool("us-east-1f", price=None), make_pool("us-east-1e", price=None)]) == "us-east-1e"


def test_domain_371_step4_a_missing_price_never_excludes_a_pool() -> None:
    assert emergency([make_pool("us-east-1b", price=None)]) == "us-east-1b"


def test_r8_requested_pool_is_used_when_it_is_in_the_first_non_empty_tier() -> None:
    pools = [make_pool("us-east-1b", risk=Decimal("0.01")), make_pool("us-east-1c", risk=Decimal("0.2"))]

    assert emergency(pools, preferred_pool_id="t3.medium.us-east-1c") == "us-east-1c"


@pytest.mark.parametrize(
    "requested",
    ["t3.medium.us-east-1d", PRIMARY, "t3.medium.us-east-1z"],
    ids=["lower-tier", "primary", "unknown"],
)
def test_r8_requested_pool_outside_the_first_tier_is_ignored(requested: str) -> None:
    pools = [make_pool("us-east-1b"), make_pool("us-east-1d", blocklisted=True), make_pool("us-east-1a")]

    assert emergency(pools, preferred_pool_id=requested) == "us-east-1b"


def test_domain_371_no_candidate_gives_none() -> None:
    assert emergency([]) is None
    assert emergency([make_pool("us-east-1a")]) is None


def test_u1_cheapest_priced_pool_under_the_risk_threshold() -> None:
    pools = [
        make_pool("us-east-1b", price=Decimal("0.02"), risk=Decimal("0.01")),
        make_pool("us-east-1c", price=Decimal("0.01"), risk=Decimal("0.25")),
        make_pool("us-east-1d", price=Decimal("0.001"), risk=Decimal("0.5")),
        make_pool("us-east-1e", price=None, risk=Decimal(0)),
    ]

    assert standby(pools) == "us-east-1c"


def test_u1_without_a_safe_priced_pool_the_lowest_risk_non_blocklisted_pool() -> None:
    pools = [
        make_pool("us-east-1b", price=Decimal("0.01"), risk=Decimal("0.6")),
        make_pool("us-east-1c", price=Decimal("0.09"), risk=Decimal("0.4")),
        make_pool("us-east-1d", price=Decimal("0.01"), risk=Decimal("0.0"), blocklisted=True),
    ]

    assert standby(pools) == "us-east-1c"


def test_u1_never_a_blocklisted_pool() -> None:
    assert standby([make_pool("us-east-1d", blocklisted=True)]) is None


def test_r1_max_hourly_cost_and_excluded_zones_remove_pools_before_the_u1_choice() -> None:
    pools = [make_pool("us-east-1b", price=Decimal("0.01")), make_pool("us-east-1c", price=Decimal("0.05"))]

    assert standby(pools, max_hourly_cost=Decimal("0.02"), exclude_zones=["us-east-1b"]) is None
    assert standby(pools, max_hourly_cost=Decimal("0.05"), exclude_zones=["us-east-1b"]) == "us-east-1c"


@pytest.mark.parametrize(
    "overrides",
    [{"az": "us-east-1c"}, {"risk": Decimal("1.1")}, {"risk": Decimal(-1)}, {"price": Decimal(0)}],
)
def test_pool_candidate_rejects_inconsistent_values(overrides: dict[str, Any]) -> None:
    fields: dict[str, Any] = {
        "pool_id": "t3.medium.us-east-1b",
        "az": "us-east-1b",
        "available": True,
        "price": Decimal("0.01"),
        "risk": Decimal("0.1"),
        "blocklisted": False,
    }
    fields.update(overrides)
    with pytest.raises(InvalidValueError):
        PoolCandidate(**fields)


_candidates = st.lists(
    st.builds(
        make_pool,
        az=st.sampled_from([f"us-east-1{letter}" for letter in "abcdef"] + ["us-west-2a"]),
        instance_type=st.sampled_from([TYPE, "t3.large"]),
        available=st.booleans(),
        price=st.none() | st.decimals(Decimal("0.001"), Decimal("1"), places=3),
        risk=st.decimals(Decimal(0), Decimal(1), places=2),
        blocklisted=st.booleans(),
    ),
    max_size=12,
)
_zones = st.lists(st.sampled_from([f"us-east-1{letter}" for letter in "abcdef"]), max_size=3)


@given(pools=_candidates, exclude=_zones, preferred=_zones, requested=st.none() | st.sampled_from([PRIMARY]))
@settings(max_examples=200)
def test_rp1_emergency_choice_is_never_the_primarys_pool_nor_unavailable_nor_excluded(
    pools: list[PoolCandidate], exclude: list[str], preferred: list[str], requested: str | None
) -> None:
    chosen = select_emergency_pool(
        pools,
        primary_pool_id=PRIMARY,
        instance_type=TYPE,
        region=REGION,
        risk_threshold=THRESHOLD,
        exclude_zones=exclude,
        preferred_zones=preferred,
        preferred_pool_id=requested,
    )
    eligible = [
        p
        for p in pools
        if p.available
        and p.pool_id != PRIMARY
        and p.instance_type == TYPE
        and p.region == REGION
        and p.az not in exclude
    ]
    if not eligible:
        assert chosen is None
        return
    assert chosen in eligible
    safe = [p for p in eligible if not p.blocklisted and p.risk <= THRESHOLD]
    assert not safe or chosen in safe
    assert not any(not p.blocklisted for p in eligible) or not chosen.blocklisted


@given(pools=_candidates, exclude=_zones)
@settings(max_examples=200)
def test_rp1_u1_standby_choice_is_never_the_primarys_pool_unavailable_or_blocklisted(
    pools: list[PoolCandidate], exclude: list[str]
) -> None:
    chosen = select_standby_pool(
        pools,
        primary_pool_id=PRIMARY,
        instance_type=TYPE,
        region=REGION,
        risk_threshold=THRESHOLD,
        exclude_zones=exclude,
    )
    if chosen is not None:
        assert chosen.pool_id != PRIMARY
        assert chosen.available
        assert not chosen.blocklisted
        assert chosen.az not in exclude
        assert chosen.instance_type == TYPE
        assert chosen.region == REGION
