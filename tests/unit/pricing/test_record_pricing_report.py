"""A6 ingestion (domain §4.1 PR-1 … PR-9, §4.5 PR-27 … PR-29, §4.6 PR-32/PR-33, T-3) over the in-memory fakes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.errors import NotFoundError
from spotopt.application.pricing.record_pricing_report import (
    RecordPricingReport,
    RecordPricingReportCommand,
    RecordPricingReportResult,
    ReportedInstance,
    ReportedPool,
)
from spotopt.domain.agents.sighting import UnattachedSighting
from spotopt.domain.agents.values import InstanceRole, KeptReason, Lifecycle, Liveness
from spotopt.domain.pricing.market import OnDemandPrice, submission_id
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import ClientId, InstanceId, ReplicaId
from spotopt.domain.shared.pools import Mode
from spotopt.entrypoints.http.pricing.schemas import PricingReportRequest, to_command
from tests.factories.pricing import (
    AGENT,
    CLIENT,
    PRIMARY,
    REGION,
    T0,
    TYPE,
    make_agent,
    make_instance,
    make_report,
    pool,
    seed_reporter,
)
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork, InScope

STANDBY = InstanceId("i-0fedcba9876543210")
RECEIVED = T0 + timedelta(seconds=30)


Sut = InScope[[RecordPricingReportCommand], RecordPricingReportResult]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(RECEIVED)


@pytest.fixture
def sut(uow: InMemoryUnitOfWork, clock: FixedClock) -> Sut:
    return InScope(RecordPricingReport(uow, clock).execute, uow)


@pytest.fixture
async def reporter(uow: InMemoryUnitOfWork) -> None:
    await seed_reporter(uow)


def submissions_of(uow: InMemoryUnitOfWork) -> list[Any]:
    return sorted(uow.store.submissions.values(), key=lambda s: s.pool_id)


@pytest.mark.usefixtures("reporter")
async def test_pr1_report_is_stored_as_received(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    command = make_report(
        current_spot_price=Decimal("0.0125"),
        cheapest_pool=None,
        collected_at_raw="2026-11-28T10:00:00+00:00",
    )
    result = await sut.execute(command)

    [report] = uow.store.reports
    assert report.report_id == result.report_id
    assert (report.client_id, report.agent_id, report.instance_id) == (CLIENT, AGENT, PRIMARY)
    assert (report.instance_type, report.region, report.az, report.mode) == (TYPE, REGION, "us-east-1a", "spot")
    assert report.pool_id == pool("a")
    assert (report.on_demand_price, report.current_spot_price) == (Decimal("0.0416"), Decimal("0.0125"))
    assert report.spot_pools[0] == {"pool_id": pool("a"), "az": "us-east-1a", "price": "0.0125"}
    assert (report.collected_at, report.collected_at_raw) == (T0, "2026-11-28T10:00:00+00:00")
    assert report.received_at == RECEIVED
    assert (report.pool_count, report.pools_rejected) == (3, 0)
    assert uow.commits == 1


@pytest.mark.usefixtures("reporter")
async def test_pr3_each_valid_item_becomes_one_submission_with_the_report_facts(
    uow: InMemoryUnitOfWork, sut: Sut
) -> None:
    result = await sut.execute(make_report())

    assert (result.pools_accepted, result.pools_rejected) == (3, 0)
    subs = submissions_of(uow)
    assert [s.pool_id for s in subs] == [pool("a"), pool("b"), pool("c")]
    first = subs[0]
    assert (first.instance_type, first.region, first.az) == (TYPE, REGION, "us-east-1a")
    assert (first.spot_price, first.ondemand_price) == (Decimal("0.0125"), Decimal("0.0416"))
    assert (first.observed_at, first.collected_at, first.received_at) == (T0, T0, RECEIVED)
    assert (first.source_type, first.agent_id, first.instance_id, first.client_id) == (
        SourceType.PRIMARY,
        AGENT,
        PRIMARY,
        CLIENT,
    )
    assert first.report_id == result.report_id
    assert first.is_valid
    assert first.validation_flags == []
    assert (first.processed_at, first.outcome) == (None, None)


@pytest.mark.usefixtures("reporter")
@pytest.mark.parametrize(
    ("item", "flag"),
    [
        (ReportedPool(pool_id="t3.large.us-east-1a", az="us-east-1a", price=Decimal("0.01")), "pool_id_mismatch"),
        (ReportedPool(pool_id="t3.medium.us-west-2a", az="us-west-2a", price=Decimal("0.01")), "az_outside_region"),
        (ReportedPool(pool_id="t3.medium.us-east-1", az="us-east-1", price=Decimal("0.01")), "az_outside_region"),
        (ReportedPool(pool_id=pool("b"), az="us-east-1b", price=Decimal(0)), "price_out_of_range"),
        (ReportedPool(pool_id=pool("b"), az="us-east-1b", price=Decimal("-0.5")), "price_out_of_range"),
        (ReportedPool(pool_id=pool("b"), az="us-east-1b", price=Decimal("1000.000001")), "price_out_of_range"),
        (ReportedPool(pool_id=pool("b"), az="us-east-1b", price=Decimal("0.0000004")), "price_out_of_range"),
        (ReportedPool(pool_id=pool("b"), az="us-east-1b", price=Decimal("1E+300")), "price_out_of_range"),
    ],
)
async def test_pr5_invalid_items_are_stored_flagged_and_counted_never_rejected(
    uow: InMemoryUnitOfWork, sut: Sut, item: ReportedPool, flag: str
) -> None:
    valid = ReportedPool(pool_id=pool("a"), az="us-east-1a", price=Decimal(1000))
    result = await sut.execute(make_report(spot_pools=(valid, item)))

    assert (result.pools_accepted, result.pools_rejected) == (1, 1)
    stored = uow.store.submissions[submission_id(AGENT, PRIMARY, item.pool_id, T0.isoformat())]
    assert not stored.is_valid
    assert flag in stored.validation_flags
    assert stored.ondemand_price is None
    assert uow.store.reports[0].pools_rejected == 1
    assert set(uow.store.pools) == {pool("a")}, "invalid items never enter the catalogue"


@pytest.mark.usefixtures("reporter")
async def test_pr5_placeholder_instance_type_never_makes_a_pool_valid(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    facts = ReportedInstance(instance_id=PRIMARY, instance_type="unknown", region=REGION, az="us-east-1a")
    item = ReportedPool(pool_id="unknown.us-east-1a", az="us-east-1a", price=Decimal("0.01"))
    result = await sut.execute(make_report(instance=facts, spot_pools=(item,)))

    assert result.pools_rejected == 1
    assert not uow.store.pools
    assert not uow.store.ondemand_observations, "no on-demand catalogue entry for a placeholder type"


@pytest.mark.usefixtures("reporter")
async def test_pr4_submission_ids_use_collected_at_exactly_as_sent(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    await sut.execute(make_report({"a": "0.0125"}, collected_at_raw="2026-11-28T10:00:00Z"))
    await sut.execute(make_report({"a": "0.0125"}, collected_at_raw="2026-11-28T10:00:00+00:00"))

    assert set(uow.store.submissions) == {
        submission_id(AGENT, PRIMARY, pool("a"), "2026-11-28T10:00:00Z"),
        submission_id(AGENT, PRIMARY, pool("a"), "2026-11-28T10:00:00+00:00"),
    }, "the same instant written differently is another claim"


@pytest.mark.usefixtures("reporter")
async def test_md1_resent_report_inserts_no_new_submissions(
    uow: InMemoryUnitOfWork, sut: Sut, clock: FixedClock
) -> None:
    first = await sut.execute(make_report())
    stored = dict(uow.store.submissions)
    clock.advance(seconds=20)
    again = await sut.execute(make_report())

    assert uow.store.submissions == stored
    assert all(s.report_id == first.report_id for s in uow.store.submissions.values())
    assert len(uow.store.reports) == 2, "PR-1: the re-sent report itself is history"
    assert (again.pools_accepted, again.pools_rejected) == (3, 0)


@given(count=st.integers(min_value=1, max_value=4))
async def test_md1_property_any_number_of_resends_keeps_one_submission_per_item(count: int) -> None:
    uow = InMemoryUnitOfWork()
    await seed_reporter(uow)
    sut = RecordPricingReport(uow, FixedClock(RECEIVED))
    for _ in range(count):
        await sut.execute(make_report())
    assert len(uow.store.submissions) == 3


@pytest.mark.usefixtures("reporter")
@pytest.mark.parametrize(
    "collected_at", [RECEIVED - timedelta(hours=1), RECEIVED, RECEIVED + timedelta(minutes=2)], ids=str
)
async def test_pr6_claim_inside_the_skew_window_is_the_observation_time(
    uow: InMemoryUnitOfWork, sut: Sut, collected_at: Any
) -> None:
    await sut.execute(make_report(collected_at=collected_at))

    assert {s.observed_at for s in uow.store.submissions.values()} == {collected_at}
    assert all("clock_skew" not in s.validation_flags for s in uow.store.submissions.values())
    assert "clock_skew_detected" not in uow.event_types()


@pytest.mark.usefixtures("reporter")
@pytest.mark.parametrize(
    "collected_at",
    [RECEIVED - timedelta(hours=1, microseconds=1), RECEIVED + timedelta(minutes=2, microseconds=1)],
    ids=str,
)
async def test_pr6_claim_outside_the_window_is_replaced_by_receipt_time_and_flagged(
    uow: InMemoryUnitOfWork, sut: Sut, collected_at: Any
) -> None:
    result = await sut.execute(make_report(collected_at=collected_at))

    subs = list(uow.store.submissions.values())
    assert {s.observed_at for s in subs} == {RECEIVED}
    assert all(s.is_valid and s.validation_flags == ["clock_skew"] for s in subs)
    assert {s.collected_at for s in subs} == {collected_at}, "the claim is kept as sent"
    assert result.pools_accepted == 3
    [event] = [e for e in uow.store.events if e.type == "clock_skew_detected"]
    assert (event.severity.value, event.agent_id, event.client_id) == ("warning", AGENT, CLIENT)
    assert not uow.store.notifications, "a system event only"


@pytest.mark.usefixtures("reporter")
async def test_pr6_clock_skew_event_at_most_once_per_agent_per_day(
    uow: InMemoryUnitOfWork, sut: Sut, clock: FixedClock
) -> None:
    for _ in range(3):
        await sut.execute(make_report(collected_at=clock.now() - timedelta(hours=3)))
        clock.advance(minutes=5)
    assert uow.event_types().count("clock_skew_detected") == 1

    clock.current = RECEIVED + timedelta(days=1)
    await sut.execute(make_report(collected_at=clock.now() - timedelta(hours=3)))
    assert uow.event_types().count("clock_skew_detected") == 2


@pytest.mark.usefixtures("reporter")
async def test_pr6_missing_claim_means_receipt_time_without_skew(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    await sut.execute(make_report(collected_at=None))

    subs = list(uow.store.submissions.values())
    assert {s.observed_at for s in subs} == {RECEIVED}
    assert all(s.validation_flags == [] and s.collected_at is None for s in subs)
    assert {s.submission_id for s in subs} == {
        submission_id(AGENT, PRIMARY, pool(z), RECEIVED.isoformat()) for z in "abc"
    }


@given(offset=st.integers(min_value=-3 * 3600 * 10**6, max_value=3 * 3600 * 10**6))
async def test_pr6_property_observed_at_always_lies_in_the_skew_window(offset: int) -> None:
    uow = InMemoryUnitOfWork()
    await seed_reporter(uow)
    await RecordPricingReport(uow, FixedClock(RECEIVED)).execute(
        make_report(collected_at=RECEIVED + timedelta(microseconds=offset))
    )
    for s in uow.store.submissions.values():
        assert RECEIVED - timedelta(hours=1) <= s.observed_at <= RECEIVED + timedelta(minutes=2)
        assert ("clock_skew" in s.validation_flags) == (s.observed_at != s.collected_at)


async def _with_replica(uow: InMemoryUnitOfWork, kind: ReplicaKind) -> None:
    await uow.replicas.add(
        Replica(
            replica_id=ReplicaId("replica-1"),
            client_id=CLIENT,
            agent_id=AGENT,
            kind=kind,
            status=ReplicaStatus.READY,
            pool_id=pool("b"),
            instance_type=TYPE,
            region=REGION,
            az="us-east-1b",
            created_by="coordinator",
            created_at=T0,
            instance_id=STANDBY,
        )
    )


@pytest.mark.parametrize(
    ("role", "kind", "expected"),
    [
        (InstanceRole.STANDBY, ReplicaKind.AUTOMATIC_REBALANCE, SourceType.REPLICA_AUTOMATIC),
        (InstanceRole.STANDBY, ReplicaKind.AUTOMATIC_TERMINATION, SourceType.REPLICA_AUTOMATIC),
        (InstanceRole.STANDBY, ReplicaKind.MANUAL, SourceType.REPLICA_MANUAL),
        (InstanceRole.KEPT_OLD, None, SourceType.SECONDARY),
        (InstanceRole.TERMINATED, None, SourceType.SECONDARY),
    ],
)
async def test_pr2_source_type_follows_the_reporters_role_at_receipt(
    uow: InMemoryUnitOfWork,
    sut: Sut,
    role: InstanceRole,
    kind: ReplicaKind | None,
    expected: SourceType,
) -> None:
    await seed_reporter(uow)
    kept = KeptReason.KEPT if role is InstanceRole.KEPT_OLD else None
    await uow.instances.add(make_instance(instance_id=STANDBY, role=role, az="us-east-1b", kept_reason=kept))
    if kind is not None:
        await _with_replica(uow, kind)
    facts = ReportedInstance(instance_id=STANDBY, instance_type=TYPE, region=REGION, az="us-east-1b")
    await sut.execute(make_report(instance=facts))

    assert {s.source_type for s in uow.store.submissions.values()} == {expected}
    assert uow.store.instances[(CLIENT, STANDBY)].last_seen_at == RECEIVED, "T-3"


@pytest.mark.usefixtures("reporter")
async def test_pr2_primary_reports_are_primary_source(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    await sut.execute(make_report())
    assert {s.source_type for s in uow.store.submissions.values()} == {SourceType.PRIMARY}


@pytest.mark.usefixtures("reporter")
async def test_pr2_unattached_sighting_reports_as_secondary_and_t3_refreshes_it(
    uow: InMemoryUnitOfWork, sut: Sut
) -> None:
    sighting = UnattachedSighting(CLIENT, STANDBY, AGENT, first_seen_at=T0, last_seen_at=T0)
    await uow.sightings.add(sighting)
    facts = ReportedInstance(instance_id=STANDBY, instance_type=TYPE, region=REGION, az="us-east-1b")
    await sut.execute(make_report(instance=facts))

    assert {s.source_type for s in uow.store.submissions.values()} == {SourceType.SECONDARY}
    assert sighting.last_seen_at == RECEIVED
    assert (CLIENT, STANDBY) not in uow.store.instances, "a sighting stays a sighting"


@pytest.mark.usefixtures("reporter")
async def test_pr2_unknown_instance_and_another_agents_instance_report_as_secondary(
    uow: InMemoryUnitOfWork, sut: Sut
) -> None:
    other = make_instance(instance_id=STANDBY, agent_id="agent-2", last_seen_at=T0)
    await uow.instances.add(other)
    unknown = InstanceId("i-0123456789abcdef0")
    for reporter_id in (STANDBY, unknown):
        facts = ReportedInstance(instance_id=reporter_id, instance_type=TYPE, region=REGION, az="us-east-1a")
        await sut.execute(make_report(instance=facts))

    assert {s.source_type for s in uow.store.submissions.values()} == {SourceType.SECONDARY}
    assert other.last_seen_at == T0, "another agent's instance is not this reporter's"


@pytest.mark.usefixtures("reporter")
async def test_t3_pr9_only_the_reporters_last_seen_changes(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    agent, instance = uow.store.agents[AGENT], uow.store.instances[(CLIENT, PRIMARY)]
    agent_before, instance_before = dataclasses.replace(agent), dataclasses.replace(instance)
    facts = ReportedInstance(
        instance_id=PRIMARY, instance_type=TYPE, region=REGION, az="us-east-1c", mode=Mode.ONDEMAND
    )
    await sut.execute(make_report(instance=facts))

    assert instance.last_seen_at == RECEIVED
    assert _same(instance, instance_before), "no fact correction from a pricing report"
    assert _same(agent, agent_before), "no liveness, heartbeat or placement change"
    assert agent.liveness is Liveness.ONLINE
    assert not uow.store.buckets, "buckets come from the aggregator only"
    assert not uow.store.ledger


def _same(a: object, b: object, ignore: tuple[str, ...] = ("last_seen_at",)) -> bool:
    fields = [f.name for f in dataclasses.fields(a)]  # type: ignore[arg-type]
    return all(getattr(a, f) == getattr(b, f) for f in fields if f not in ignore)


@pytest.mark.usefixtures("reporter")
async def test_pr7_pr32_valid_items_create_pools_and_later_reports_advance_last_seen(
    uow: InMemoryUnitOfWork, sut: Sut, clock: FixedClock
) -> None:
    await sut.execute(make_report({"a": "0.0125", "b": "0.0118"}))
    created = uow.store.pools[pool("a")]
    assert (created.instance_type, created.region, created.az) == (TYPE, REGION, "us-east-1a")
    assert created.first_seen_at == created.last_seen_at == RECEIVED

    later = clock.advance(minutes=5)
    await sut.execute(make_report({"a": "0.0125", "b": "0"}, collected_at=later))
    assert (uow.store.pools[pool("a")].first_seen_at, uow.store.pools[pool("a")].last_seen_at) == (RECEIVED, later)
    assert uow.store.pools[pool("b")].last_seen_at == RECEIVED, "an invalid item does not refresh its pool"


@pytest.mark.usefixtures("reporter")
async def test_pr33_a_pool_is_available_for_24_hours_after_a_report_listed_it(
    uow: InMemoryUnitOfWork, sut: Sut
) -> None:
    await sut.execute(make_report({"a": "0.0125"}))
    entry = uow.store.pools[pool("a")]
    assert entry.is_available(RECEIVED + timedelta(hours=24))
    assert not entry.is_available(RECEIVED + timedelta(hours=24, seconds=1))


@pytest.mark.usefixtures("reporter")
@pytest.mark.parametrize(
    ("ondemand", "spots"),
    [("0.1", {"a": "0.0125"}), ("0.0375", {"a": "0.0125", "b": "0.0118", "c": "0.0132"})],
    ids=["constant-0.1", "3x-mean-spot"],
)
async def test_pr28_agent_fallback_estimates_are_stored_flagged_and_never_current(
    uow: InMemoryUnitOfWork, sut: Sut, ondemand: str, spots: dict[str, str]
) -> None:
    await sut.execute(make_report(spots, on_demand_price=Decimal(ondemand)))

    [observation] = uow.store.ondemand_observations
    assert (observation.price, observation.is_valid, observation.flags) == (
        Decimal(ondemand),
        False,
        ["agent_estimate"],
    )
    assert (observation.source, observation.agent_id, observation.observed_at) == ("agent", AGENT, T0)
    assert not uow.store.ondemand, "never the current price"
    assert {s.ondemand_price for s in uow.store.submissions.values()} == {None}


@pytest.mark.usefixtures("reporter")
async def test_pr28_estimate_does_not_replace_an_existing_current_price(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    await uow.pricing.add_ondemand(OnDemandPrice(TYPE, REGION, Decimal("0.0416"), "operator", T0 - timedelta(days=1)))
    await sut.execute(make_report({"a": "0.0125"}, on_demand_price=Decimal("0.0375")))

    assert uow.store.ondemand[(TYPE, REGION)].price == Decimal("0.0416")
    assert "ondemand_price_changed" not in uow.event_types()


@pytest.mark.usefixtures("reporter")
@pytest.mark.parametrize("price", ["0", "-1", "1000.5"])
async def test_pr28_out_of_range_on_demand_price_is_kept_flagged(uow: InMemoryUnitOfWork, sut: Sut, price: str) -> None:
    await sut.execute(make_report(on_demand_price=Decimal(price)))

    [observation] = uow.store.ondemand_observations
    assert (observation.is_valid, observation.flags) == (False, ["price_out_of_range"])
    assert not uow.store.ondemand


@pytest.mark.usefixtures("reporter")
async def test_pr29_first_valid_observation_becomes_current_without_event(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    await sut.execute(make_report())

    current = uow.store.ondemand[(TYPE, REGION)]
    assert (current.price, current.source, current.observed_at, current.observation_count) == (
        Decimal("0.0416"),
        "agent",
        T0,
        1,
    )
    assert "ondemand_price_changed" not in uow.event_types()


@pytest.mark.usefixtures("reporter")
@pytest.mark.parametrize(("new", "changed"), [("0.0420", False), ("0.04202", True), ("0.0411", True)])
async def test_pr29_a_change_over_1_percent_emits_ondemand_price_changed(
    uow: InMemoryUnitOfWork, sut: Sut, clock: FixedClock, new: str, changed: bool
) -> None:
    await sut.execute(make_report())
    later = clock.advance(minutes=5)
    await sut.execute(make_report(on_demand_price=Decimal(new), collected_at=later))

    current = uow.store.ondemand[(TYPE, REGION)]
    assert (current.price, current.observed_at, current.observation_count) == (Decimal(new), later, 2)
    events = [e for e in uow.store.events if e.type == "ondemand_price_changed"]
    assert len(events) == int(changed)
    if changed:
        assert events[0].severity.value == "info"
        assert Decimal(str(events[0].metadata["previous_price"])) == Decimal("0.0416")


@pytest.mark.usefixtures("reporter")
async def test_pr29_an_older_valid_observation_is_history_not_current(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    await sut.execute(make_report())
    await sut.execute(make_report(on_demand_price=Decimal("0.05"), collected_at=T0 - timedelta(minutes=5)))

    current = uow.store.ondemand[(TYPE, REGION)]
    assert (current.price, current.observed_at) == (Decimal("0.0416"), T0)
    assert len(uow.store.ondemand_observations) == 2
    assert "ondemand_price_changed" not in uow.event_types()


@pytest.mark.parametrize(
    "agent",
    [
        None,
        make_agent(lifecycle=Lifecycle.DELETED),
        make_agent(client_id=ClientId("client-2")),
    ],
    ids=["unknown", "deleted", "other-client"],
)
async def test_a6_report_for_an_unknown_deleted_or_foreign_agent_is_not_found(
    uow: InMemoryUnitOfWork, sut: Sut, agent: Any
) -> None:
    if agent is not None:
        await uow.agents.add(agent)
    with pytest.raises(NotFoundError):
        await sut.execute(make_report())
    assert not uow.store.reports
    assert not uow.store.submissions
    assert uow.commits == 0


@pytest.mark.usefixtures("reporter")
async def test_a6_invalid_reporter_instance_id_rejects_the_whole_report(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    facts = ReportedInstance(instance_id="vm-1", instance_type=TYPE, region=REGION, az="us-east-1a")
    with pytest.raises(InvalidValueError):
        await sut.execute(make_report(instance=facts))
    assert not uow.store.reports


valid_azs = st.sampled_from(["us-east-1a", "us-east-1b", "us-west-2a", "us-east-1", "eu-west-1a"])
prices = st.decimals(min_value=Decimal("-1"), max_value=Decimal(1200), places=6)


@given(items=st.lists(st.tuples(st.sampled_from(["t3.medium", "t3.large"]), valid_azs, prices), min_size=0, max_size=8))
async def test_pr5_property_an_item_is_accepted_exactly_when_pool_region_and_price_are_valid(
    items: list[tuple[str, str, Decimal]],
) -> None:
    uow = InMemoryUnitOfWork()
    await seed_reporter(uow)
    spot_pools = tuple(ReportedPool(pool_id=f"{t}.{az}", az=az, price=p) for t, az, p in items)
    result = await RecordPricingReport(uow, FixedClock(RECEIVED)).execute(make_report(spot_pools=spot_pools))

    expected = sum(1 for t, az, p in items if t == TYPE and az.startswith(REGION) and az != REGION and 0 < p <= 1000)
    assert (result.pools_accepted, result.pools_rejected) == (expected, len(items) - expected)
    assert all(p.pool_id == f"{p.instance_type}.{p.az}" and p.az.startswith(p.region) for p in uow.store.pools.values())


# -- W22: agent v4 sends this route exactly so ------------------------------------------------------------

V4_BODY = {
    "instance": {
        "instance_id": PRIMARY,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1a",
        "mode": "spot",
        "pool_id": "t3.medium.us-east-1a",
    },
    "pricing": {
        "on_demand_price": 0.0416,
        "current_spot_price": 0.0125,
        "cheapest_pool": {"pool_id": "t3.medium.us-east-1d", "price": 0.0112},
        "spot_pools": [
            {"pool_id": f"t3.medium.us-east-1{z}", "instance_type": "t3.medium", "az": f"us-east-1{z}", "price": p}
            for z, p in zip("abcdef", [0.0125, 0.0118, 0.0131, 0.0112, 0.0139, 0.0127], strict=True)
        ],
        "collected_at": "2026-11-28T10:00:00.481203+00:00",
    },
    "agent_version": "4.0.0",
}


def v4_command(body: dict[str, Any]) -> RecordPricingReportCommand:
    request = msgspec.json.decode(msgspec.json.encode(body), type=PricingReportRequest)
    return to_command(CLIENT, AGENT, request)


@pytest.mark.usefixtures("reporter")
async def test_w22_documented_v4_report_is_accepted_as_sent(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    result = await sut.execute(v4_command(V4_BODY))

    assert (result.pools_accepted, result.pools_rejected) == (6, 0)
    report = uow.store.reports[0]
    assert report.collected_at_raw == "2026-11-28T10:00:00.481203+00:00"
    assert (report.cheapest_pool_id, report.cheapest_pool_price) == ("t3.medium.us-east-1d", Decimal("0.0112"))
    assert report.spot_pools[0]["instance_type"] == "t3.medium"
    assert submission_id(AGENT, PRIMARY, pool("a"), "2026-11-28T10:00:00.481203+00:00") in uow.store.submissions
    assert uow.store.submissions[submission_id(AGENT, PRIMARY, pool("d"), report.collected_at_raw)].spot_price == (
        Decimal("0.0112")
    )


@pytest.mark.usefixtures("reporter")
async def test_w22_on_demand_v4_body_with_nulls_empty_pools_and_fallback_estimate(
    uow: InMemoryUnitOfWork, sut: Sut
) -> None:
    body = {
        "instance": {**V4_BODY["instance"], "mode": "ondemand", "pool_id": None},  # type: ignore[dict-item]
        "pricing": {
            "on_demand_price": 0.1,
            "current_spot_price": None,
            "cheapest_pool": None,
            "spot_pools": [],
            "collected_at": "2026-11-28T10:00:00+00:00",
        },
    }
    result = await sut.execute(v4_command(body))

    assert (result.pools_accepted, result.pools_rejected) == (0, 0)
    report = uow.store.reports[0]
    assert (report.mode, report.pool_id, report.current_spot_price, report.cheapest_pool_id) == (
        "ondemand",
        None,
        None,
        None,
    )
    assert not uow.store.submissions
    [observation] = uow.store.ondemand_observations
    assert observation.flags == ["agent_estimate"]
    assert not uow.store.ondemand


@pytest.mark.usefixtures("reporter")
async def test_w22_v4_three_times_mean_estimate_is_flagged(uow: InMemoryUnitOfWork, sut: Sut) -> None:
    prices = [0.0125, 0.0118, 0.0131, 0.0112, 0.0139, 0.0127]
    estimate = float(round(3 * sum((Decimal(repr(p)) for p in prices), Decimal(0)) / len(prices), 6))
    body = {**V4_BODY, "pricing": {**V4_BODY["pricing"], "on_demand_price": estimate}}  # type: ignore[dict-item]
    await sut.execute(v4_command(body))

    assert uow.store.ondemand_observations[0].flags == ["agent_estimate"]
    assert not uow.store.ondemand
