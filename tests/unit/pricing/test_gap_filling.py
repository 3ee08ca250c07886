from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.domain.pricing.aggregation import aggregate
from spotopt.domain.pricing.buckets import CleanPriceBucket, DataSource, InterpolationMethod, SubmissionOutcome
from spotopt.domain.pricing.gap_filling import fill_gaps, method_for
from spotopt.domain.pricing.gaps import GapFillResult, UnfilledReason, invalidate_fill
from spotopt.domain.pricing.market import PricingSubmission
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId

POOL = "t3.medium.us-east-1a"
PEERS = ("t3.medium.us-east-1b", "t3.medium.us-east-1c", "t3.medium.us-east-1d")
DAY = datetime(2024, 5, 1, tzinfo=UTC)
WINDOW_START = DAY + timedelta(hours=6)
WINDOW_END = DAY + timedelta(hours=18)
LATER = DAY + timedelta(days=1)
CONFIDENCE = {
    InterpolationMethod.LINEAR: Decimal("0.85"),
    InterpolationMethod.WEIGHTED_AVERAGE: Decimal("0.75"),
    InterpolationMethod.CROSS_POOL: Decimal("0.70"),
}


def at(hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return DAY + timedelta(hours=int(hours), minutes=int(minutes))


def make_bucket(start: str | datetime, price: str | Decimal, pool: str = POOL, **overrides: Any) -> CleanPriceBucket:
    values: dict[str, Any] = {
        "pool_id": pool,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": pool.rsplit(".", 1)[1],
        "bucket_start": at(start) if isinstance(start, str) else start,
        "spot_price": Decimal(price),
        "source_type": SourceType.PRIMARY,
        "confidence": Decimal("1.00"),
        "data_source": DataSource.MEASURED,
        "created_at": DAY,
        "updated_at": DAY,
        "source_submission_id": "sub-0",
    }
    values.update(overrides)
    return CleanPriceBucket(**values)


def make_interpolated(
    start: str | datetime, price: str, pool: str = POOL, fill_id: str = "old-fill"
) -> CleanPriceBucket:
    return make_bucket(
        start,
        price,
        pool,
        source_type=SourceType.INTERPOLATED,
        confidence=Decimal("0.85"),
        data_source=DataSource.INTERPOLATED,
        interpolation_method=InterpolationMethod.LINEAR,
        fill_id=fill_id,
        observation_count=0,
        source_submission_id=None,
    )


def run(
    buckets: Iterable[CleanPriceBucket],
    peers: Mapping[str, Iterable[CleanPriceBucket]] | None = None,
    now: datetime = LATER,
    window: tuple[datetime, datetime] = (WINDOW_START, WINDOW_END),
) -> GapFillResult:
    return fill_gaps(POOL, list(buckets), peers or {}, window_start=window[0], window_end=window[1], now=now)


def prices(result: GapFillResult) -> dict[str, Decimal]:
    return {f"{b.bucket_start:%H:%M}": b.spot_price for b in result.buckets}


# --- §4.3 worked examples (golden) ----------------------------------------------------------------------------------


def test_section43_golden_linear_fills_1005_with_0_012500_at_confidence_085() -> None:
    result = run([make_bucket("10:00", "0.012000"), make_bucket("10:10", "0.013000")])

    (bucket,) = result.buckets
    assert (bucket.bucket_start, bucket.spot_price, bucket.confidence) == (
        at("10:05"),
        Decimal("0.012500"),
        Decimal("0.85"),
    )
    assert bucket.interpolation_method is InterpolationMethod.LINEAR


WEIGHTED_EXAMPLE = [
    ("09:50", "0.0118"),
    ("09:55", "0.0118"),
    ("10:00", "0.0120"),
    ("10:20", "0.0130"),
    ("10:25", "0.0131"),
    ("10:30", "0.0131"),
]


def test_section43_golden_weighted_average_fills_1005_with_0_012253_at_confidence_075() -> None:
    result = run(make_bucket(t, p) for t, p in WEIGHTED_EXAMPLE)

    assert sorted(prices(result)) == ["10:05", "10:10", "10:15"]
    bucket = next(b for b in result.buckets if b.bucket_start == at("10:05"))
    assert (bucket.spot_price, bucket.confidence) == (Decimal("0.012253"), Decimal("0.75"))
    assert bucket.interpolation_method is InterpolationMethod.WEIGHTED_AVERAGE
    record = next(r for r in result.records if r.bucket_start == at("10:05"))
    distances = [int((abs(at("10:05") - n.bucket_start)).total_seconds()) for n in record.neighbours]
    assert distances == [300, 600, 900, 900, 1200, 1500]
    assert [n.bucket_start for n in record.neighbours][2:4] == [at("09:50"), at("10:20")], "ties: the earlier first"
    assert [round(1 / n.weight) for n in record.neighbours] == [d + 1 for d in distances]


def cross_pool_peers() -> dict[str, list[CleanPriceBucket]]:
    changes = [("0.0100", "0.0105"), ("0.0200", "0.0200"), ("0.0150", "0.0159")]
    return {
        pool: [make_bucket("10:00", before, pool), make_bucket("10:30", after, pool)]
        for pool, (before, after) in zip(PEERS, changes, strict=True)
    }


def test_section43_golden_cross_pool_fills_1030_with_0_012600_at_confidence_070() -> None:
    result = run([make_bucket("10:00", "0.0120"), make_bucket("11:00", "0.0125")], cross_pool_peers())

    bucket = next(b for b in result.buckets if b.bucket_start == at("10:30"))
    assert (bucket.spot_price, bucket.confidence) == (Decimal("0.012600"), Decimal("0.70"))
    assert bucket.interpolation_method is InterpolationMethod.CROSS_POOL
    record = next(r for r in result.records if r.bucket_start == at("10:30"))
    assert sorted(p.ratio for p in record.peers) == [Decimal(0), Decimal("0.05"), Decimal("0.06")]


def test_section43_golden_gap_of_25_steps_is_not_filled_and_reported_once() -> None:
    result = run([make_bucket("10:00", "0.0120"), make_bucket("12:05", "0.0125")], cross_pool_peers())

    assert (result.buckets, result.records) == ((), ())
    (unfilled,) = result.unfilled
    assert (unfilled.reason, unfilled.gap.n, len(unfilled.bucket_starts)) == (UnfilledReason.GAP_TOO_LONG, 25, 24)
    (event,) = result.events
    assert (event.type, event.severity.value) == ("price_gap_not_filled", "info")
    assert (event.metadata["pool_id"], event.metadata["start"], event.metadata["length"]) == (
        POOL,
        at("10:05").isoformat(),
        24,
    )


# --- method table (pitfall 8: n counts steps, not missing buckets) ---------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, None),
        (2, (InterpolationMethod.LINEAR, Decimal("0.85"))),
        (3, (InterpolationMethod.WEIGHTED_AVERAGE, Decimal("0.75"))),
        (6, (InterpolationMethod.WEIGHTED_AVERAGE, Decimal("0.75"))),
        (7, (InterpolationMethod.CROSS_POOL, Decimal("0.70"))),
        (24, (InterpolationMethod.CROSS_POOL, Decimal("0.70"))),
        (25, None),
    ],
)
def test_section43_method_table_is_chosen_by_the_number_of_steps(n: int, expected: object) -> None:
    assert method_for(n) == expected


def test_pitfall8_two_missing_buckets_are_three_steps_and_use_the_weighted_average() -> None:
    result = run([make_bucket("10:00", "0.0120"), make_bucket("10:15", "0.0130")])
    assert {b.interpolation_method for b in result.buckets} == {InterpolationMethod.WEIGHTED_AVERAGE}
    assert {r.n for r in result.records} == {3}


def test_section43_gap_of_24_steps_is_filled_cross_pool_where_peers_allow() -> None:
    peers = {
        pool: [make_bucket(at("10:00") + timedelta(minutes=5 * k), "0.0100", pool) for k in range(25)]
        for pool in PEERS[:2]
    }
    result = run([make_bucket("10:00", "0.0120"), make_bucket("12:00", "0.0125")], peers)
    assert len(result.buckets) == 23
    assert {b.spot_price for b in result.buckets} == {Decimal("0.012000")}


# --- PR-15 … PR-22 --------------------------------------------------------------------------------------------------


def test_pr15_interpolated_buckets_are_neither_boundaries_nor_neighbours() -> None:
    own = [make_bucket("10:00", "0.0120"), make_interpolated("10:05", "0.9000"), make_bucket("10:15", "0.0130")]

    result = run(own)

    (bucket,) = result.buckets
    assert bucket.bucket_start == at("10:10")
    assert (bucket.interpolation_method, result.records[0].n) == (InterpolationMethod.WEIGHTED_AVERAGE, 3)
    assert at("10:05") not in {n.bucket_start for n in result.records[0].neighbours}
    assert Decimal("0.0120") <= bucket.spot_price <= Decimal("0.0130")


def test_pr15_interpolated_peer_buckets_are_not_peer_values() -> None:
    peers = {
        pool: [make_interpolated(at("10:00") + timedelta(minutes=5 * k), "0.0100", pool) for k in range(13)]
        for pool in PEERS
    }
    result = run([make_bucket("10:00", "0.0120"), make_bucket("11:00", "0.0125")], peers)

    assert result.buckets == ()
    (unfilled,) = result.unfilled
    assert (unfilled.reason, len(unfilled.bucket_starts)) == (UnfilledReason.INSUFFICIENT_PEERS, 11)
    assert result.events == (), "only gaps too long to fill emit price_gap_not_filled"


def test_pr16_nothing_is_extrapolated_before_the_first_or_after_the_last_measured_bucket() -> None:
    result = run([make_bucket("10:00", "0.0120"), make_bucket("10:10", "0.0130")])
    assert [b.bucket_start for b in result.buckets] == [at("10:05")]


def test_pr16_a_boundary_outside_the_window_does_not_open_a_gap() -> None:
    own = [make_bucket("05:55", "0.0120"), make_bucket("06:05", "0.0130"), make_bucket("06:15", "0.0140")]
    result = run(own, window=(at("06:00"), at("07:00")))
    assert [b.bucket_start for b in result.buckets] == [at("06:10")]


def test_pr17_filling_never_overwrites_an_existing_bucket() -> None:
    own = [make_bucket("10:00", "0.0120"), make_interpolated("10:05", "0.0999"), make_bucket("10:20", "0.0130")]

    result = run(own)

    assert sorted(prices(result)) == ["10:10", "10:15"]


def test_pr17_a_bucket_is_filled_once_its_end_is_10_minutes_past() -> None:
    own = [make_bucket("10:00", "0.0120"), make_bucket("10:10", "0.0130")]
    assert run(own, now=at("10:20")).buckets != ()
    assert run(own, now=at("10:20") - timedelta(microseconds=1)).buckets == ()


def test_pr18_filled_buckets_are_labelled_and_share_one_fill_id_per_gap() -> None:
    own = [make_bucket("10:00", "0.0120"), make_bucket("10:20", "0.0130"), make_bucket("10:30", "0.0140")]

    result = run(own, now=LATER)

    by_gap = {b.bucket_start: b.fill_id for b in result.buckets}
    assert by_gap[at("10:05")] == by_gap[at("10:10")] == by_gap[at("10:15")]
    assert by_gap[at("10:25")] != by_gap[at("10:05")]
    for bucket in result.buckets:
        assert (bucket.source_type, bucket.data_source) == (SourceType.INTERPOLATED, DataSource.INTERPOLATED)
        assert (bucket.ondemand_price, bucket.savings_percent, bucket.observation_count) == (None, None, 0)
        assert (bucket.source_submission_id, bucket.source_agent_id, bucket.source_instance_id) == (None, None, None)
        assert (bucket.created_at, bucket.updated_at, bucket.discrepancy) == (LATER, LATER, False)
        assert bucket.interpolation_method is not None
        assert bucket.confidence == CONFIDENCE[bucket.interpolation_method]


def test_pr18_a_later_run_finishing_a_gap_uses_a_new_fill_id() -> None:
    own = [make_bucket("10:00", "0.0120"), make_bucket("10:15", "0.0135")]
    first = run(own, now=at("10:24"))
    second = run([*own, *first.buckets], now=LATER)

    assert [b.bucket_start for b in first.buckets] == [at("10:05")]
    assert [b.bucket_start for b in second.buckets] == [at("10:10")]
    assert first.buckets[0].fill_id != second.buckets[0].fill_id


def test_pr19_each_filled_bucket_has_a_complete_interpolation_record() -> None:
    result = run([make_bucket("10:00", "0.012000"), make_bucket("10:10", "0.013000")])

    (bucket,) = result.buckets
    (record,) = result.records
    assert (record.pool_id, record.bucket_start, record.fill_id) == (POOL, bucket.bucket_start, bucket.fill_id)
    assert (record.method, record.confidence, record.n) == (InterpolationMethod.LINEAR, Decimal("0.85"), 2)
    assert (record.t_b, record.p_b, record.t_a, record.p_a) == (
        at("10:00"),
        Decimal("0.012000"),
        at("10:10"),
        Decimal("0.013000"),
    )
    assert (record.result, record.created_at, record.superseded_at) == (bucket.spot_price, LATER, None)


def test_pr19_cross_pool_record_lists_the_peers_used_with_their_values() -> None:
    result = run([make_bucket("10:00", "0.0120"), make_bucket("11:00", "0.0125")], cross_pool_peers())

    record = next(r for r in result.records if r.bucket_start == at("10:30"))
    first_peer = next(p for p in record.peers if p.pool_id == PEERS[0])
    assert (first_peer.base_bucket_start, first_peer.base_price) == (at("10:00"), Decimal("0.0100"))
    assert (first_peer.bucket_start, first_peer.price, first_peer.ratio) == (
        at("10:30"),
        Decimal("0.0105"),
        Decimal("0.05"),
    )


def test_section43_cross_pool_peer_lookups_use_the_15_minute_windows() -> None:
    result = run([make_bucket("10:00", "0.0120"), make_bucket("11:00", "0.0125")], cross_pool_peers())

    filled = prices(result)
    assert filled["10:15"] == Decimal("0.012000"), "q_t at 10:15 falls back to the 10:00 peer buckets (r = 0)"
    assert "10:20" not in filled, "no peer bucket in [10:05, 10:20]"
    assert filled["10:45"] == Decimal("0.012600"), "q_t at 10:45 is the 10:30 peer bucket"
    assert "10:50" not in filled
    (unfilled,) = result.unfilled
    assert unfilled.reason is UnfilledReason.INSUFFICIENT_PEERS
    assert [f"{t:%H:%M}" for t in unfilled.bucket_starts] == ["10:20", "10:25", "10:50", "10:55"]


def test_section43_cross_pool_base_price_may_come_from_up_to_15_minutes_before_t_b() -> None:
    peers = {pool: [make_bucket("09:45", "0.0100", pool), make_bucket("10:30", "0.0110", pool)] for pool in PEERS[:2]}
    peers[PEERS[2]] = [make_bucket("09:40", "0.0100", PEERS[2]), make_bucket("10:30", "0.0500", PEERS[2])]

    result = run([make_bucket("10:00", "0.0120"), make_bucket("11:00", "0.0125")], peers)

    record = next(r for r in result.records if r.bucket_start == at("10:30"))
    assert sorted(p.pool_id for p in record.peers) == list(PEERS[:2]), "09:40 is more than 15 min before t_b"
    assert record.result == Decimal("0.013200")


def test_section43_cross_pool_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    changes = [("0.0100", "0.0101"), ("0.0100", "0.0103")]
    peers = {
        pool: [make_bucket("10:00", b, pool), make_bucket("10:30", a, pool)]
        for pool, (b, a) in zip(PEERS, changes, strict=False)
    }

    result = run([make_bucket("10:00", "0.0100"), make_bucket("11:00", "0.0125")], peers)

    assert prices(result)["10:30"] == Decimal("0.010200")


def test_section43_cross_pool_ignores_the_pool_itself_among_the_peers() -> None:
    own = [make_bucket("10:00", "0.0120"), make_bucket("11:00", "0.0125")]
    peers = {POOL: own, PEERS[0]: cross_pool_peers()[PEERS[0]]}
    assert run(own, peers).buckets == ()


def test_pr20_filling_twice_creates_nothing() -> None:
    own = [make_bucket(t, p) for t, p in WEIGHTED_EXAMPLE] + [make_bucket("10:40", "0.0140")]
    first = run(own)
    second = run([*own, *first.buckets])
    assert first.buckets != ()
    assert (second.buckets, second.records) == ((), ())


def make_submission(observed_at: datetime, price: str) -> PricingSubmission:
    return PricingSubmission(
        submission_id="sub-late",
        pool_id=POOL,
        instance_type="t3.medium",
        region="us-east-1",
        az="us-east-1a",
        spot_price=Decimal(price),
        observed_at=observed_at,
        received_at=observed_at,
        source_type=SourceType.SECONDARY,
        agent_id=AgentId("agent-1"),
        instance_id=InstanceId("i-0123456789abcdef0"),
        client_id=ClientId("client-1"),
        report_id="report-1",
        is_valid=True,
    )


def test_pr21_a_measurement_inside_a_fill_removes_the_rest_and_the_smaller_gaps_fill_again() -> None:
    own = [make_bucket("10:00", "0.0120"), make_bucket("10:20", "0.0130")]
    filled = run(own)
    (fill_id,) = {b.fill_id for b in filled.buckets}
    assert fill_id is not None
    stored = {b.bucket_start: b for b in [*own, *filled.buckets]}

    folded = aggregate([make_submission(at("10:11"), "0.0126")], [stored[at("10:10")]], lambda *_: None, LATER)
    assert folded.outcomes == {"sub-late": SubmissionOutcome.REPLACED}
    assert folded.invalidated_fill_ids == (fill_id,)
    stored.update({b.bucket_start: b for b in folded.buckets})

    invalidation = invalidate_fill(fill_id, stored.values(), filled.records, LATER + timedelta(minutes=1))
    assert sorted(b.bucket_start for b in invalidation.removed_buckets) == [at("10:05"), at("10:15")]
    assert len(invalidation.superseded_records) == 3
    assert {r.superseded_at for r in invalidation.superseded_records} == {LATER + timedelta(minutes=1)}
    assert all(r.superseded_at is None for r in filled.records), "inputs are left untouched"

    remaining = [b for b in stored.values() if b not in invalidation.removed_buckets]
    refilled = run(remaining, now=LATER + timedelta(minutes=2))
    assert prices(refilled) == {"10:05": Decimal("0.012300"), "10:15": Decimal("0.012800")}
    assert {b.interpolation_method for b in refilled.buckets} == {InterpolationMethod.LINEAR}
    assert len({b.fill_id for b in refilled.buckets} | {fill_id}) == 3


def test_pr21_already_superseded_records_are_not_touched_again() -> None:
    filled = run([make_bucket("10:00", "0.0120"), make_bucket("10:20", "0.0130")])
    (fill_id,) = {b.fill_id for b in filled.buckets}
    assert fill_id is not None
    once = invalidate_fill(fill_id, filled.buckets, filled.records, LATER)
    twice = invalidate_fill(fill_id, [], once.superseded_records, LATER + timedelta(hours=1))
    assert twice.superseded_records == ()


def test_pr22_each_too_long_gap_is_reported_once_with_a_stable_key() -> None:
    own = [make_bucket("08:00", "0.0120"), make_bucket("10:05", "0.0121"), make_bucket("12:10", "0.0122")]

    first = run(own)
    second = run(own)

    assert [u.gap.n for u in first.unfilled] == [25, 25]
    assert len(first.events) == 2
    assert [u.dedup_key for u in first.unfilled] == [u.dedup_key for u in second.unfilled]
    assert first.unfilled[0].dedup_key != first.unfilled[1].dedup_key


# --- properties -----------------------------------------------------------------------------------------------------

step_prices = st.dictionaries(
    st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=1_000_000), max_size=14
)


def as_buckets(spec: dict[int, int], pool: str = POOL) -> list[CleanPriceBucket]:
    return [make_bucket(at("10:00") + timedelta(minutes=5 * k), Decimal(p).scaleb(-6), pool) for k, p in spec.items()]


@given(
    own=step_prices,
    interpolated=st.sets(st.integers(min_value=0, max_value=60), max_size=5),
    peer_a=step_prices,
    peer_b=step_prices,
)
def test_pr16_pr17_pr20_filling_invents_nothing_outside_the_measured_span_overwrites_nothing_and_is_idempotent(
    own: dict[int, int], interpolated: set[int], peer_a: dict[int, int], peer_b: dict[int, int]
) -> None:
    measured = as_buckets(own)
    junk = [make_interpolated(at("10:00") + timedelta(minutes=5 * k), "0.5") for k in interpolated - own.keys()]
    peers = {PEERS[0]: as_buckets(peer_a, PEERS[0]), PEERS[1]: as_buckets(peer_b, PEERS[1])}

    first = run([*measured, *junk], peers)

    starts = [b.bucket_start for b in first.buckets]
    assert len(starts) == len(set(starts)) == len(first.records)
    assert not set(starts) & {b.bucket_start for b in [*measured, *junk]}, "PR-17: never overwrite"
    if starts:
        assert min(b.bucket_start for b in measured) < min(starts), "PR-16: no extrapolation"
        assert max(starts) < max(b.bucket_start for b in measured)
    assert all(
        b.confidence == CONFIDENCE[r.method] < Decimal("0.95")
        for b, r in zip(first.buckets, first.records, strict=True)
    ), "MD-4"
    second = run([*measured, *junk, *first.buckets], peers)
    assert (second.buckets, second.records) == ((), ()), "PR-20"


@given(own=step_prices)
def test_section43_linear_and_weighted_average_stay_within_the_prices_they_interpolate(own: dict[int, int]) -> None:
    result = run(as_buckets(own))

    for record in result.records:
        if record.method is InterpolationMethod.LINEAR:
            assert min(record.p_b, record.p_a) <= record.result <= max(record.p_b, record.p_a)
        else:
            assert record.method is InterpolationMethod.WEIGHTED_AVERAGE
            used = [n.price for n in record.neighbours]
            assert 0 < len(used) <= 6
            assert min(used) <= record.result <= max(used)
            assert all(
                record.t_b - timedelta(hours=1) <= n.bucket_start <= record.t_a + timedelta(hours=1)
                for n in record.neighbours
            )


def test_md5_cross_pool_result_outside_the_valid_price_range_is_left_unknown() -> None:
    peers = {pool: [make_bucket("10:00", "0.0001", pool), make_bucket("10:30", "1.0000", pool)] for pool in PEERS[:2]}

    result = run([make_bucket("10:00", "1.0000"), make_bucket("11:00", "1.0000")], peers)

    assert at("10:30") not in {b.bucket_start for b in result.buckets}
    assert any(
        u.reason is UnfilledReason.PRICE_OUT_OF_RANGE and at("10:30") in u.bucket_starts for u in result.unfilled
    )


def test_section43_weighted_average_may_leave_the_boundary_range_because_neighbours_reach_an_hour_out() -> None:
    own = [make_bucket("09:55", "0.0200"), make_bucket("10:00", "0.0100"), make_bucket("10:15", "0.0100")]

    result = run(own)

    assert prices(result)["10:05"] > Decimal("0.0100"), "the 09:55 neighbour pulls the value above both boundaries"
