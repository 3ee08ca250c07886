"""Savings ledger entries: open, close, split and accrue (domain §5.1-§5.3, §5.5; LG-1 to LG-8, IN-7, IN-8)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceOrigin, InstanceRole, TerminationReason
from spotopt.domain.ledger.accrual import (
    LedgerChange,
    accrue,
    clamp_lg3,
    clamp_lg6,
    close_entry,
    open_entry,
    split_at_midnights,
    split_entry,
)
from spotopt.domain.ledger.entry import UNKNOWN_PRICE, CloseReason, LedgerEntry, LedgerPrice, PriceFlag, entry_amounts
from spotopt.domain.ledger.savings import hourly_rate, project_savings, summarise_day
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from spotopt.domain.shared.pools import Mode

ONDEMAND = Decimal("0.041600")
ZERO = Decimal(0)
PRIMARY, STANDBY, KEPT_OLD = InstanceRole.PRIMARY, InstanceRole.STANDBY, InstanceRole.KEPT_OLD


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def price(value: str | None, **provenance: object) -> LedgerPrice:
    return LedgerPrice(None if value is None else Decimal(value), **provenance)  # type: ignore[arg-type]


DEFAULT_START = at(10, 8)


def make_instance(**overrides: object) -> Instance:
    fields: dict[str, object] = {
        "client_id": ClientId("client-1"),
        "instance_id": InstanceId("i-0000000a"),
        "agent_id": AgentId("agent-1"),
        "role": PRIMARY,
        "origin": InstanceOrigin.REGISTERED,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1a",
        "mode": Mode.SPOT,
        "first_seen_at": at(1),
        "role_changed_at": at(1),
    }
    fields.update(overrides)
    return Instance(**fields)  # type: ignore[arg-type]


def make_open_entry(
    *,
    start: datetime = DEFAULT_START,
    quote: str | None = "0.012500",
    baseline: Decimal | None = ONDEMAND,
    **instance: object,
) -> LedgerEntry:
    change = open_entry(make_instance(**instance), start, start, price=price(quote), baseline=baseline)
    assert change.current is not None
    return change.current


def current(change: LedgerChange) -> LedgerEntry:
    assert change.current is not None
    return change.current


def closed(change: LedgerChange) -> LedgerEntry:
    assert change.closed is not None
    return change.closed


# --- §5.5 worked example (golden) -----------------------------------------------------------------------------

INSTANCE_A, INSTANCE_B, INSTANCE_C = InstanceId("i-0000000a"), InstanceId("i-0000000b"), InstanceId("i-0000000c")


def build_worked_example() -> tuple[list[LedgerEntry], LedgerEntry]:
    """The §5.5 story through the API; returns the five entries of 2026-03-10 and i-bbb's entry of 03-11."""
    aaa = make_instance(instance_id=INSTANCE_A, first_seen_at=at(9, 20), role_changed_at=at(9, 20))
    yesterday = current(open_entry(aaa, at(9, 20), at(9, 20), price=price("0.012500"), baseline=ONDEMAND))
    # 00:02 accrual: the 23:55 bucket carries the same price, only the midnight splits.
    e1 = current(accrue(yesterday, at(9, 23, 55), at(10, 0, 2), price=price("0.012500"), baseline=ONDEMAND))
    # 09:07 accrual: the 09:00 bucket's price rose; the split lands at the bucket start.
    e2 = current(accrue(e1, at(10, 9), at(10, 9, 7), price=price("0.014000"), baseline=ONDEMAND))
    bbb = make_instance(
        instance_id=INSTANCE_B,
        role=STANDBY,
        az="us-east-1c",
        first_seen_at=at(10, 14, 3),
        role_changed_at=at(10, 14, 3),
    )
    e3 = current(open_entry(bbb, at(10, 14, 3), at(10, 14, 3), price=price("0.013100")))
    e4 = current(split_entry(e2, at(10, 14, 48), CloseReason.FAILOVER, at(10, 14, 48), role=KEPT_OLD))
    e5 = current(
        split_entry(e3, at(10, 14, 48), CloseReason.PROMOTION, at(10, 14, 48), role=PRIMARY, new_baseline=ONDEMAND)
    )
    close_entry(e4, at(10, 14, 50), CloseReason.TERMINATED, at(10, 14, 51))
    next_day = current(accrue(e5, at(10, 23, 55), at(11), price=price("0.013100"), baseline=ONDEMAND))
    return [e1, e2, e3, e4, e5], next_day


WORKED_TABLE = [
    (INSTANCE_A, PRIMARY, "t3.medium.us-east-1a", at(10, 0), at(10, 9), "0.012500", "9", "0.11250000", "0.37440000", "0.26190000", CloseReason.PRICE_CHANGE),
    (INSTANCE_A, PRIMARY, "t3.medium.us-east-1a", at(10, 9), at(10, 14, 48), "0.014000", "5.8", "0.08120000", "0.24128000", "0.16008000", CloseReason.FAILOVER),
    (INSTANCE_B, STANDBY, "t3.medium.us-east-1c", at(10, 14, 3), at(10, 14, 48), "0.013100", "0.75", "0.00982500", "0", "-0.00982500", CloseReason.PROMOTION),
    (INSTANCE_A, KEPT_OLD, "t3.medium.us-east-1a", at(10, 14, 48), at(10, 14, 50), "0.014000", None, "0.00046667", "0", "-0.00046667", CloseReason.TERMINATED),
    (INSTANCE_B, PRIMARY, "t3.medium.us-east-1c", at(10, 14, 48), at(11), "0.013100", "9.2", "0.12052000", "0.38272000", "0.26220000", CloseReason.DAY_BOUNDARY),
]  # fmt: skip


@pytest.mark.parametrize("row", range(5))
def test_worked_example_5_5_entries_match_the_table(row: int) -> None:
    entries, _ = build_worked_example()
    entry = entries[row]
    instance_id, role, pool, start, end, quote, hours, cost, baseline_cost, savings, reason = WORKED_TABLE[row]
    assert (entry.instance_id, entry.role, entry.pool_id) == (instance_id, role, pool)
    assert (entry.started_at, entry.ended_at, entry.close_reason) == (start, end, reason)
    assert entry.price == Decimal(quote)
    assert entry.hours == (Decimal(120) / Decimal(3600) if hours is None else Decimal(hours))
    assert (entry.cost, entry.baseline_cost, entry.savings) == (Decimal(cost), Decimal(baseline_cost), Decimal(savings))
    assert entry.cost is not None
    assert entry.cost.as_tuple().exponent == -8


def test_worked_example_5_5_day_totals() -> None:
    entries, next_day = build_worked_example()
    day = summarise_day([*entries, next_day], date(2026, 3, 10))
    assert day.baseline_cost == Decimal("0.99840000")
    assert day.primary_cost == Decimal("0.31422000")
    assert day.overhead_cost == Decimal("0.01029167")
    assert day.actual_cost == Decimal("0.32451167")
    assert day.savings == Decimal("0.67388833")
    assert day.savings_percent == Decimal("67.50")
    assert (day.hours.primary, day.hours.standby, day.hours.unpriced) == (Decimal(24), Decimal("0.75"), ZERO)
    assert day.hours.kept_old == Decimal(120) / Decimal(3600)
    assert (day.hours.spot, day.hours.ondemand, day.coverage, day.instance_count) == (Decimal(24), ZERO, Decimal(1), 2)


def test_worked_example_5_5_projection_at_midnight() -> None:
    _, next_day = build_worked_example()
    projection = project_savings([next_day], at(11), final_month_savings=Decimal("6.50"))
    assert projection.hourly_rate == Decimal("0.028500")
    assert projection.savings_today == 0
    assert projection.savings_month_to_date == Decimal("6.50")
    # 6.50 + 0.0285 x 504 h = 20.864, shown as 20.86
    assert projection.projected_month == Decimal("20.864")
    assert projection.projected_month.quantize(Decimal("0.01")) == Decimal("20.86")
    assert projection.run_rate_month == Decimal("20.805")
    assert projection.projected_day == Decimal("0.684")


def test_worked_example_5_5_next_day_voluntary_switch() -> None:
    _, bbb_primary = build_worked_example()
    bbb_kept = current(split_entry(bbb_primary, at(11, 10, 2), CloseReason.SWITCH, at(11, 10, 2), role=KEPT_OLD))
    ccc = make_instance(
        instance_id=INSTANCE_C, az="us-east-1b", origin=InstanceOrigin.SWITCH, first_seen_at=at(11, 10, 2)
    )
    ccc_primary = current(open_entry(ccc, at(11, 10, 2), at(11, 10, 2), price=price("0.011000"), baseline=ONDEMAND))
    assert (bbb_primary.ended_at, bbb_kept.started_at, ccc_primary.started_at) == (at(11, 10, 2),) * 3
    assert hourly_rate([bbb_kept, ccc_primary]) == Decimal("0.017500")
    closing = closed(close_entry(bbb_kept, at(11, 10, 7, 30), CloseReason.TERMINATED, at(11, 10, 8)))
    assert closing.cost == Decimal("0.00120083")
    rate = hourly_rate([bbb_primary, bbb_kept, ccc_primary])
    assert rate - Decimal("0.028500") == Decimal("0.0021")
    assert (Decimal("0.00120083") / (rate - Decimal("0.028500")) * 60).quantize(Decimal(1)) == 34


# --- §5.3 formulas, C-3 --------------------------------------------------------------------------------------


def test_c3_amounts_round_half_to_even_once_per_entry() -> None:
    second = timedelta(seconds=1)
    assert entry_amounts(STANDBY, Decimal("0.000018"), None, second).cost == 0  # 0.000000005 → even 0
    assert entry_amounts(STANDBY, Decimal("0.000054"), None, second).cost == Decimal("0.00000002")
    assert entry_amounts(STANDBY, Decimal("0.000018"), None, second).hours == Decimal(1) / Decimal(3600)


def test_c3_hours_are_exact_to_the_microsecond() -> None:
    amounts = entry_amounts(PRIMARY, Decimal(1), Decimal(2), timedelta(hours=1, microseconds=36))
    assert amounts.hours == Decimal("1.00000001")
    assert (amounts.cost, amounts.baseline_cost, amounts.savings) == (
        Decimal("1.00000001"),
        Decimal("2.00000002"),
        Decimal("1.00000001"),
    )


def test_5_3_on_demand_primary_saves_nothing_and_standby_saves_minus_cost() -> None:
    hour = timedelta(hours=1)
    assert entry_amounts(PRIMARY, ONDEMAND, ONDEMAND, hour).savings == 0
    standby = entry_amounts(STANDBY, Decimal("0.0131"), None, hour)
    assert (standby.baseline_cost, standby.savings) == (ZERO, -Decimal("0.0131"))


# --- LG-1 contiguity ---------------------------------------------------------------------------------------


def test_lg1_split_opens_the_next_entry_at_exactly_the_close_time() -> None:
    entry = make_open_entry(start=at(10, 8))
    change = split_entry(entry, at(10, 9, 30), CloseReason.ROLE_CHANGE, at(10, 10), role=KEPT_OLD)
    assert change.changed == (entry, change.current)
    assert entry.ended_at == current(change).started_at == at(10, 9, 30)
    assert (current(change).role, current(change).baseline, current(change).instance_id) == (
        KEPT_OLD,
        None,
        entry.instance_id,
    )


def test_lg1_a_successor_carries_price_and_placement() -> None:
    entry = make_open_entry(quote="0.012500")
    successor = current(split_entry(entry, at(10, 9), CloseReason.ROLE_CHANGE, at(10, 9), role=STANDBY))
    assert (successor.price, successor.pool_id, successor.mode) == (entry.price, entry.pool_id, entry.mode)


# --- LG-2 immutability -------------------------------------------------------------------------------------


def test_lg2_closing_a_closed_entry_is_rejected() -> None:
    entry = make_open_entry()
    close_entry(entry, at(10, 9), CloseReason.TERMINATED, at(10, 9))
    with pytest.raises(RuleConflictError) as raised:
        close_entry(entry, at(10, 10), CloseReason.TERMINATED, at(10, 10))
    assert raised.value.code == "ledger_entry_closed"
    assert entry.ended_at == at(10, 9)


@pytest.mark.parametrize(
    "operation",
    [
        lambda e: split_entry(e, at(10, 10), CloseReason.ROLE_CHANGE, at(10, 10), role=KEPT_OLD),
        lambda e: accrue(e, at(10, 9), at(10, 10), price=price("0.020000")),
        lambda e: split_at_midnights(e, at(12)),
    ],
)
def test_lg2_no_operation_changes_a_closed_entry(operation: Callable[[LedgerEntry], LedgerChange]) -> None:
    entry = make_open_entry()
    close_entry(entry, at(10, 9), CloseReason.TERMINATED, at(10, 9))
    with pytest.raises(RuleConflictError):
        operation(entry)
    assert (entry.ended_at, entry.cost, entry.close_reason) == (
        at(10, 9),
        Decimal("0.01250000"),
        CloseReason.TERMINATED,
    )


def test_lg2_a_late_price_correction_leaves_the_closed_entry_as_it_was() -> None:
    entry = make_open_entry(start=at(10, 8), quote="0.012500")
    successor = current(accrue(entry, at(10, 9), at(10, 9, 7), price=price("0.014000")))
    # A corrected 08:55 bucket arrives later: the closed entry keeps its price, the successor is younger.
    change = accrue(successor, at(10, 8, 55), at(10, 9, 12), price=price("0.020000"))
    assert change.changed == ()
    assert (entry.price, entry.cost) == (Decimal("0.012500"), Decimal("0.01250000"))


# --- LG-3 clamping -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reported", "expected"),
    [(at(10, 7), at(10, 8)), (at(10, 9), at(10, 9)), (at(10, 11), at(10, 10))],
    ids=["before-start", "inside", "after-now"],
)
def test_lg3_clamp_puts_agent_times_into_start_and_now(reported: datetime, expected: datetime) -> None:
    assert clamp_lg3(reported, at(10, 8), at(10, 10)) == expected


def test_lg3_a_close_reported_before_the_start_closes_at_the_start() -> None:
    entry = make_open_entry(start=at(10, 8))
    close_entry(entry, at(10, 7), CloseReason.TERMINATED, at(10, 9))
    assert (entry.ended_at, entry.hours, entry.cost) == (at(10, 8), ZERO, ZERO)


def test_lg3_a_split_reported_in_the_future_happens_now() -> None:
    entry = make_open_entry(start=at(10, 8))
    change = split_entry(entry, at(10, 12), CloseReason.SWITCH, at(10, 9), role=KEPT_OLD)
    assert entry.ended_at == current(change).started_at == at(10, 9)


def test_lg3_naive_agent_times_are_read_as_utc() -> None:
    assert clamp_lg3(datetime(2026, 3, 10, 9), at(10, 8), at(10, 10)) == at(10, 9)  # noqa: DTZ001


# --- LG-4 split triggers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    [CloseReason.SWITCH, CloseReason.PROMOTION, CloseReason.FAILOVER, CloseReason.ROLE_CHANGE],
)
def test_lg4_role_and_placement_changes_split_with_their_reason(reason: CloseReason) -> None:
    entry = make_open_entry(start=at(10, 8))
    change = split_entry(entry, at(10, 9), reason, at(10, 9), role=KEPT_OLD)
    assert (closed(change).close_reason, current(change).role) == (reason, KEPT_OLD)


@pytest.mark.parametrize("reason", [CloseReason.TERMINATED, CloseReason.AGENT_DELETED])
def test_lg4_termination_and_agent_deletion_close_without_successor(reason: CloseReason) -> None:
    entry = make_open_entry(start=at(10, 8))
    change = close_entry(entry, at(10, 9), reason, at(10, 9, 1))
    assert (change.changed, change.current, entry.close_reason) == ((entry,), None, reason)


@pytest.mark.parametrize(
    ("old", "new"),
    [("0.012500", "0.014000"), ("0.012500", None), (None, "0.012500")],
    ids=["differs", "known-to-unknown", "unknown-to-known"],
)
def test_lg4_a_different_bucket_price_splits_at_the_bucket_start(old: str | None, new: str | None) -> None:
    entry = make_open_entry(start=at(10, 8), quote=old)
    change = accrue(entry, at(10, 9), at(10, 9, 7), price=price(new), baseline=ONDEMAND)
    assert (entry.ended_at, entry.close_reason) == (at(10, 9), CloseReason.PRICE_CHANGE)
    assert (current(change).started_at, current(change).price) == (at(10, 9), None if new is None else Decimal(new))


@pytest.mark.parametrize("quote", ["0.012500", None], ids=["known", "unknown"])
def test_lg4_the_same_bucket_price_splits_nothing(quote: str | None) -> None:
    entry = make_open_entry(start=at(10, 8), quote=quote)
    change = accrue(entry, at(10, 9), at(10, 9, 7), price=price(quote, flags=frozenset({PriceFlag.CARRIED_FORWARD})))
    assert (change.changed, change.current, entry.is_open) == ((), entry, True)


def test_lg4_a_baseline_change_splits_a_primary_entry() -> None:
    entry = make_open_entry(start=at(10, 8))
    change = accrue(entry, at(10, 9), at(10, 9, 7), price=price("0.012500"), baseline=Decimal("0.045000"))
    assert (entry.close_reason, current(change).baseline) == (CloseReason.BASELINE_CHANGE, Decimal("0.045000"))


def test_lg4_a_baseline_change_does_not_touch_a_standby_entry() -> None:
    entry = make_open_entry(start=at(10, 8), role=STANDBY, baseline=None)
    change = accrue(entry, at(10, 9), at(10, 9, 7), price=price("0.012500"), baseline=Decimal("0.045000"))
    assert (change.changed, entry.baseline) == ((), None)


def test_lg4_a_split_at_an_already_split_time_is_a_no_op() -> None:
    entry = make_open_entry(start=at(10, 8))
    first = accrue(entry, at(10, 9), at(10, 9, 7), price=price("0.014000"))
    again = accrue(current(first), at(10, 9), at(10, 9, 12), price=price("0.014000"))
    assert (again.changed, again.current) == ((), first.current)


def test_lg4_a_bucket_covering_the_entry_start_reprices_it_in_place() -> None:
    entry = make_open_entry(start=at(10, 9, 2), quote="0.012500")
    change = accrue(entry, at(10, 9), at(10, 9, 7), price=price("0.014000", bucket_start=at(10, 9)))
    assert (change.changed, change.current) == ((entry,), entry)
    assert (entry.started_at, entry.price, entry.price_bucket_start) == (at(10, 9, 2), Decimal("0.014000"), at(10, 9))


def test_lg4_a_bucket_older_than_the_entry_changes_nothing() -> None:
    entry = make_open_entry(start=at(10, 9, 5), quote="0.012500")
    assert accrue(entry, at(10, 9), at(10, 9, 12), price=price("0.014000")).changed == ()


def test_lg4_every_utc_midnight_splits_an_open_entry() -> None:
    entry = make_open_entry(start=at(10, 20))
    change = split_at_midnights(entry, at(13, 1))
    starts = [e.started_at for e in change.changed]
    assert starts == [at(10, 20), at(11), at(12), at(13)]
    assert [e.close_reason for e in change.changed] == [CloseReason.DAY_BOUNDARY] * 3 + [None]
    assert [e.hours for e in change.changed[:3]] == [4, 24, 24]
    assert change.current is change.changed[-1]


def test_lg4_no_midnight_means_no_split() -> None:
    entry = make_open_entry(start=at(10))
    assert split_at_midnights(entry, at(10, 23, 59, 59)).changed == ()


def test_lg4_closing_across_a_midnight_rolls_the_day_first() -> None:
    entry = make_open_entry(start=at(10, 23))
    change = close_entry(entry, at(11, 0, 30), CloseReason.TERMINATED, at(11, 0, 31))
    assert [(e.started_at, e.ended_at, e.close_reason) for e in change.changed] == [
        (at(10, 23), at(11), CloseReason.DAY_BOUNDARY),
        (at(11), at(11, 0, 30), CloseReason.TERMINATED),
    ]


def test_lg4_a_price_split_before_midnight_lands_before_the_day_boundary() -> None:
    # The 00:02 accrual sees the 23:55 bucket: the split is at 23:55, then the day boundary at 00:00.
    entry = make_open_entry(start=at(10, 20), quote="0.012500")
    change = accrue(entry, at(10, 23, 55), at(11, 0, 2), price=price("0.014000"))
    assert [(e.started_at, e.price, e.close_reason) for e in change.changed] == [
        (at(10, 20), Decimal("0.012500"), CloseReason.PRICE_CHANGE),
        (at(10, 23, 55), Decimal("0.014000"), CloseReason.DAY_BOUNDARY),
        (at(11), Decimal("0.014000"), None),
    ]


def test_lg4_the_midnight_bucket_reprices_the_day_continuation() -> None:
    entry = make_open_entry(start=at(10, 20), quote="0.012500")
    continuation = current(split_at_midnights(entry, at(11, 0, 2)))
    change = accrue(continuation, at(11), at(11, 0, 7), price=price("0.014000"))
    assert (change.changed, continuation.started_at, continuation.price) == (
        (continuation,),
        at(11),
        Decimal("0.014000"),
    )


def test_lg4_a_split_at_the_entry_start_adjusts_it_instead_of_leaving_an_empty_entry() -> None:
    entry = make_open_entry(start=at(10, 9), role=STANDBY, baseline=None)
    change = split_entry(entry, at(10, 8), CloseReason.PROMOTION, at(10, 9), role=PRIMARY, new_baseline=ONDEMAND)
    assert (change.changed, change.current, entry.role, entry.baseline) == ((entry,), entry, PRIMARY, ONDEMAND)


def test_lg4_becoming_primary_without_a_baseline_is_refused() -> None:
    entry = make_open_entry(role=STANDBY, baseline=None)
    with pytest.raises(InvalidValueError):
        split_entry(entry, at(10, 9), CloseReason.PROMOTION, at(10, 9), role=PRIMARY)
    assert entry.is_open


# --- LG-6 no back-dating -----------------------------------------------------------------------------------


def test_lg6_an_instance_accrues_from_first_seen_not_before() -> None:
    instance = make_instance(first_seen_at=at(10, 8))
    entry = current(open_entry(instance, at(10, 7), at(10, 9), price=price("0.0125"), baseline=ONDEMAND))
    assert entry.started_at == at(10, 8)


def test_lg6_an_entry_never_opens_in_the_future() -> None:
    assert clamp_lg6(at(10, 12), at(10, 8), at(10, 9)) == at(10, 9)


def test_lg6_open_keeps_the_baseline_for_primaries_only() -> None:
    entry = make_open_entry(role=KEPT_OLD, baseline=ONDEMAND)
    assert (entry.baseline, entry.baseline_cost) == (None, None)


# --- LG-7 unknown values -----------------------------------------------------------------------------------


def test_lg7_unknown_price_leaves_cost_and_savings_null() -> None:
    entry = make_open_entry(quote=None)
    close_entry(entry, at(10, 9), CloseReason.TERMINATED, at(10, 9))
    assert (entry.cost, entry.baseline_cost, entry.savings, entry.is_priced) == (None, ONDEMAND, None, False)


def test_lg7_unknown_baseline_leaves_baseline_cost_and_savings_null() -> None:
    entry = make_open_entry(baseline=None)
    close_entry(entry, at(10, 9), CloseReason.TERMINATED, at(10, 9))
    assert (entry.cost, entry.baseline_cost, entry.savings, entry.is_priced) == (
        Decimal("0.01250000"),
        None,
        None,
        False,
    )


def test_lg7_unknown_price_of_a_standby_is_unpriced() -> None:
    entry = make_open_entry(role=STANDBY, quote=None, baseline=None)
    assert (entry.is_priced, entry.hourly_savings) == (False, None)


# --- LG-8 negatives ----------------------------------------------------------------------------------------


def test_lg8_an_on_demand_primary_with_a_standby_loses_money() -> None:
    primary = make_open_entry(mode=Mode.ONDEMAND, quote="0.041600")
    standby = make_open_entry(instance_id=INSTANCE_B, role=STANDBY, quote="0.013100", baseline=None)
    for entry in (primary, standby):
        close_entry(entry, at(10, 9), CloseReason.TERMINATED, at(10, 9))
    assert (primary.savings, standby.savings) == (ZERO, Decimal("-0.01310000"))
    day = summarise_day([primary, standby], date(2026, 3, 10))
    assert (day.savings, day.savings_percent) == (Decimal("-0.01310000"), Decimal("-31.49"))


# --- IN-7 / IN-8 -------------------------------------------------------------------------------------------


def test_in7_termination_time_is_never_before_the_last_entry_start() -> None:
    instance = make_instance(role=KEPT_OLD)
    entry = make_open_entry(start=at(10, 14, 48), role=KEPT_OLD, baseline=None)
    # The coordinator reports a termination time before the kept-old entry began.
    ended_at = closed(close_entry(entry, at(10, 14, 40), CloseReason.TERMINATED, at(10, 14, 51))).ended_at
    assert ended_at is not None
    instance.terminate(TerminationReason.INTERRUPTED, ended_at, at(10, 14, 51), confirmed=True)
    instance.terminate(TerminationReason.REPORTED, at(10, 14, 55), at(10, 15), confirmed=True)
    assert instance.terminated_at == entry.ended_at == at(10, 14, 48)


def test_in8_a_terminated_instance_gets_no_entry() -> None:
    instance = make_instance(role=InstanceRole.TERMINATED)
    with pytest.raises(RuleConflictError):
        open_entry(instance, at(10, 9), at(10, 9))


def test_in8_termination_is_a_close_not_a_split() -> None:
    entry = make_open_entry()
    with pytest.raises(InvalidValueError):
        split_entry(entry, at(10, 9), CloseReason.TERMINATED, at(10, 9), role=InstanceRole.TERMINATED)
    assert entry.is_open


def test_5_1_only_primary_entries_carry_a_baseline() -> None:
    with pytest.raises(InvalidValueError):
        LedgerEntry(
            entry_id=make_open_entry().entry_id, client_id=ClientId("c"), agent_id=AgentId("a"),
            instance_id=INSTANCE_A, role=STANDBY, mode=Mode.SPOT, pool_id=None, instance_type="t3.medium",
            region="us-east-1", started_at=at(10), baseline=ONDEMAND,
        )  # fmt: skip


def test_5_1_prices_are_validated_and_carry_6_decimals() -> None:
    assert LedgerPrice(Decimal("0.0125")).price == Decimal("0.012500")
    assert str(LedgerPrice(Decimal("0.0125")).price) == "0.012500"
    with pytest.raises(InvalidValueError):
        LedgerPrice(Decimal(0))
    assert UNKNOWN_PRICE.price is None


# --- Property: reconciliation, contiguity, LG-3 bounds -----------------------------------------------------

PRICES = st.sampled_from([None, "0.010000", "0.012500", "0.014000"])
BASELINES = st.sampled_from([None, "0.041600", "0.050000"])
STEP = st.one_of(
    st.tuples(st.just("wait"), st.integers(1, 3000), st.just(0), PRICES, BASELINES),
    st.tuples(st.just("accrue"), st.just(0), st.just(0), PRICES, BASELINES),
    st.tuples(st.just("split"), st.integers(-240, 60), st.integers(0, 9), PRICES, BASELINES),
    st.tuples(st.just("close"), st.integers(-240, 60), st.integers(0, 9), PRICES, BASELINES),
    st.tuples(st.just("open"), st.integers(-240, 60), st.integers(0, 2), PRICES, BASELINES),
)


class LedgerSimulation:
    """Drives the public API like the use cases and the accrual job would, checking LG-2/LG-3 as it goes."""

    def __init__(self) -> None:
        self.now = at(10, 20)
        self.entries: dict[str, LedgerEntry] = {}
        self.open: list[LedgerEntry] = []
        self.frozen: dict[str, tuple[object, ...]] = {}
        self.serial = 0
        self.step("open", 0, 0, "0.012500", "0.041600")
        self.step("open", 0, 1, "0.013100", None)

    def apply(self, change: LedgerChange) -> None:
        for entry in change.changed:
            self.entries[entry.entry_id] = entry
            if not entry.is_open and entry.entry_id not in self.frozen:
                assert entry.ended_at is not None
                assert entry.started_at <= entry.ended_at <= self.now  # LG-3
                self.frozen[entry.entry_id] = snapshot(entry)
        self.open = [e for e in self.entries.values() if e.is_open]

    def step(self, kind: str, minutes: int, target: int, quote: str | None, baseline: str | None) -> None:
        base = None if baseline is None else Decimal(baseline)
        reported = self.now + timedelta(minutes=minutes)
        if kind == "wait":
            self.now += timedelta(minutes=minutes)
        elif kind == "accrue":
            bucket = datetime.fromtimestamp(self.now.timestamp() // 300 * 300 - 300, UTC)
            for entry in list(self.open):
                self.apply(accrue(entry, bucket, self.now, price=price(quote), baseline=base))
        elif kind == "open" or not self.open:
            self.serial += 1
            role = [PRIMARY, STANDBY, KEPT_OLD][target % 3]
            first_seen = self.now - timedelta(hours=1)
            instance = make_instance(
                instance_id=InstanceId(f"i-{self.serial:08x}"), role=role, first_seen_at=first_seen
            )
            self.apply(open_entry(instance, reported, self.now, price=price(quote), baseline=base))
        elif kind == "split":
            entry = self.open[target % len(self.open)]
            role = [PRIMARY, STANDBY, KEPT_OLD][target % 3]
            change = split_entry(entry, reported, CloseReason.ROLE_CHANGE, self.now, role=role, new_baseline=base)
            self.apply(change)
        else:
            entry = self.open[target % len(self.open)]
            self.apply(close_entry(entry, reported, CloseReason.TERMINATED, self.now))


def snapshot(entry: LedgerEntry) -> tuple[object, ...]:
    return (entry.started_at, entry.ended_at, entry.role, entry.price, entry.baseline, entry.cost, entry.savings)


def assert_contiguous(entries: list[LedgerEntry], now: datetime) -> None:
    by_instance: dict[str, list[LedgerEntry]] = {}
    for entry in entries:
        by_instance.setdefault(entry.instance_id, []).append(entry)
    for chain in by_instance.values():
        chain.sort(key=lambda e: (e.started_at, e.ended_at is None, e.ended_at or now))
        assert sum(e.is_open for e in chain) <= 1  # LG-1 / IN-8
        for before, after in itertools.pairwise(chain):
            assert before.ended_at == after.started_at  # contiguous, no overlap
        for entry in chain:
            end = entry.ended_at or now
            assert entry.started_at <= end
            assert end.date() == entry.started_at.date() or end == datetime.combine(
                entry.started_at.date() + timedelta(days=1), datetime.min.time(), UTC
            )  # LG-4: no entry spans a midnight


@settings(max_examples=150, deadline=None)
@given(st.lists(STEP, min_size=3, max_size=30))
def test_lg1_lg3_reconciliation_property(steps: list[tuple[str, int, int, str | None, str | None]]) -> None:
    sim = LedgerSimulation()
    for step in steps:
        sim.step(*step)
    for entry in list(sim.open):  # the accrual job rolls the day boundaries
        sim.apply(split_at_midnights(entry, sim.now))
    entries = list(sim.entries.values())
    assert_contiguous(entries, sim.now)
    assert all(snapshot(sim.entries[entry_id]) == frozen for entry_id, frozen in sim.frozen.items())  # LG-2
    days = {e.started_at.date() for e in entries}
    closed_savings = sum((e.savings for e in entries if e.savings is not None), Decimal(0))
    assert sum((summarise_day(entries, d).savings for d in days), Decimal(0)) == closed_savings
    open_savings = sum((s for e in sim.open if (s := e.amounts_until(sim.now).savings) is not None), Decimal(0))
    with_open = sum((summarise_day(entries, d, now=sim.now).savings for d in days), Decimal(0))
    assert with_open == closed_savings + open_savings
