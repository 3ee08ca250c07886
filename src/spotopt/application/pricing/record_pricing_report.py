"""A6: ingest one pricing report (domain §4.1 PR-1 … PR-9, §4.5, §4.6, T-3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.pricing.ingestion import (
    MAX_POOL_ID_LENGTH,
    OnDemandOffer,
    clock_skew_dedup_key,
    clock_skew_event,
    item_flags,
    offer_ondemand,
    source_type_for,
    storable_price,
)
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import is_placeholder
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.pricing.market import PricingReport, PricingSubmission, SpotPool, observed_at, submission_id
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.events import DomainEvent
from spotopt.domain.shared.ids import ClientId, InstanceId, instance_id, new_id
from spotopt.domain.shared.pools import Mode
from spotopt.domain.shared.time import utc

CLOCK_SKEW_FLAG = "clock_skew"
_MAX_TEXT = 255


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportedInstance:
    """The reporter's instance facts, validated strictly by the entrypoint (PR-5: else the report is rejected)."""

    instance_id: str
    instance_type: str
    region: str
    az: str
    mode: Mode = Mode.UNKNOWN
    pool_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportedPool:
    """One ``spot_pools`` item, validated by value here (PR-5)."""

    pool_id: str
    az: str
    price: Decimal
    instance_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheapestPool:
    pool_id: str
    price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordPricingReportCommand:
    """``collected_at_raw`` is the claim exactly as sent (PR-4 ids); ``collected_at`` its parsed UTC value."""

    client_id: ClientId
    agent_id: str
    instance: ReportedInstance
    on_demand_price: Decimal | None = None
    current_spot_price: Decimal | None = None
    cheapest_pool: CheapestPool | None = None
    spot_pools: tuple[ReportedPool, ...] = ()
    collected_at: datetime | None = None
    collected_at_raw: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordPricingReportResult:
    report_id: str
    pools_accepted: int
    pools_rejected: int


@dataclass(frozen=True, slots=True)
class _Receipt:
    """What the server knows at receipt: the time, the observation time (PR-6) and the source type (PR-2)."""

    agent: Agent
    instance_id: InstanceId
    source: SourceType
    received_at: datetime
    observed_at: datetime
    skewed: bool


class RecordPricingReport:
    """- PR-1: the report is stored as received; PR-2: the reporter's role at receipt gives the source type.
    - PR-3/PR-5: one submission per pool item; invalid items are stored flagged and counted as rejected, never a 400.
    - PR-4/MD-1: submission ids from (agent, instance, pool, ``collected_at`` as sent); a re-sent report adds none.
    - PR-6: ``observed_at`` from the claim inside the skew window, else receipt time with flag ``clock_skew``
      (event ``clock_skew_detected`` at most once per agent per day).
    - PR-7/PR-32: valid items create or refresh pool catalogue entries; PR-8/PR-27 – PR-29: on-demand observation.
    - T-3: the reporter instance's ``last_seen_at``. PR-9: nothing else changes (no buckets, prices or savings).
    - A deleted or unknown agent → ``NotFoundError``.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, command: RecordPricingReportCommand) -> RecordPricingReportResult:
        agent = await self._uow.agents.get(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        receipt = await self._receive(agent, command)
        report = _report(command, receipt)
        submissions = _submissions(command, receipt, report.report_id)
        valid = [s for s in submissions if s.is_valid]
        report.pools_rejected = len(submissions) - len(valid)
        ondemand = await self._offer_ondemand(command, receipt, valid)
        for submission in valid:
            submission.ondemand_price = ondemand.price
        await self._uow.pricing.add_report(report)
        await self._uow.pricing.add_submissions(submissions)
        await self._uow.pricing.record_pool_sightings(
            [_pool(s, receipt.received_at) for s in valid], receipt.received_at
        )
        skew = await self._clock_skew(command, receipt) if receipt.skewed else []
        await record_events(self._uow, [*ondemand.events, *skew], receipt.received_at)
        await self._uow.commit()
        return RecordPricingReportResult(
            report_id=report.report_id, pools_accepted=len(valid), pools_rejected=report.pools_rejected
        )

    async def _receive(self, agent: Agent, command: RecordPricingReportCommand) -> _Receipt:
        """PR-2 source type and T-3 ``last_seen_at`` of the reporter (instance or unattached sighting)."""
        now = self._clock.now()
        reporter = instance_id(command.instance.instance_id)
        instance = await self._uow.instances.get(agent.client_id, reporter)
        source = SourceType.SECONDARY
        if instance is not None and instance.agent_id == agent.agent_id:
            replica = None
            if instance.role is InstanceRole.STANDBY:
                replica = await self._uow.replicas.find_by_instance(agent.agent_id, reporter)
            source = source_type_for(instance.role, replica.kind if replica is not None else None)
            instance.last_seen_at = max(instance.last_seen_at or now, now)
        else:
            sighting = await self._uow.sightings.get(agent.client_id, reporter)
            if sighting is not None and sighting.agent_id == agent.agent_id:
                sighting.last_seen_at = max(sighting.last_seen_at, now)
        claim = utc(command.collected_at) if command.collected_at is not None else None
        observed, skewed = observed_at(claim, now)
        return _Receipt(agent, reporter, source, now, observed, skewed)

    async def _offer_ondemand(
        self, command: RecordPricingReportCommand, receipt: _Receipt, valid: list[PricingSubmission]
    ) -> _OnDemandEffect:
        """PR-8: the report's on-demand price, when it is a price and the type and region are known facts."""
        price = storable_price(command.on_demand_price)
        facts = command.instance
        if price is None or is_placeholder(facts.instance_type) or is_placeholder(facts.region):
            return _OnDemandEffect()
        offer = OnDemandOffer(
            agent_id=receipt.agent.agent_id,
            instance_type=facts.instance_type,
            region=facts.region,
            price=price,
            observed_at=receipt.observed_at,
            valid_spot_prices=[s.spot_price for s in valid if s.spot_price is not None],
        )
        observation, events = await offer_ondemand(self._uow, offer)
        return _OnDemandEffect(observation.price if observation.is_valid else None, events)

    async def _clock_skew(self, command: RecordPricingReportCommand, receipt: _Receipt) -> list[DomainEvent]:
        """PR-6: at most one event per agent per UTC day."""
        now, agent_id = receipt.received_at, receipt.agent.agent_id
        key = clock_skew_dedup_key(agent_id, now)
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if await self._uow.pricing.recorded_event_keys("clock_skew_detected", [key], day_start):
            return []
        return [clock_skew_event(command.client_id, agent_id, receipt.instance_id, command.collected_at_raw, now)]


@dataclass(frozen=True, slots=True)
class _OnDemandEffect:
    """The valid on-demand price submissions carry (PR-3), and the catalogue's events."""

    price: Decimal | None = None
    events: list[DomainEvent] = field(default_factory=list)


def _report(command: RecordPricingReportCommand, receipt: _Receipt) -> PricingReport:
    """PR-1: the report as received (the raw pool list, the claim and its raw text)."""
    facts, cheapest = command.instance, command.cheapest_pool
    return PricingReport(
        report_id=new_id(),
        client_id=command.client_id,
        agent_id=receipt.agent.agent_id,
        instance_id=receipt.instance_id,
        instance_type=facts.instance_type,
        region=facts.region,
        az=facts.az,
        mode=facts.mode.value,
        received_at=receipt.received_at,
        pool_id=facts.pool_id[:MAX_POOL_ID_LENGTH] if facts.pool_id is not None else None,
        on_demand_price=storable_price(command.on_demand_price),
        current_spot_price=storable_price(command.current_spot_price),
        cheapest_pool_id=cheapest.pool_id[:MAX_POOL_ID_LENGTH] if cheapest is not None else None,
        cheapest_pool_price=storable_price(cheapest.price) if cheapest is not None else None,
        pool_count=len(command.spot_pools),
        spot_pools=[_raw_item(item) for item in command.spot_pools],
        collected_at=utc(command.collected_at) if command.collected_at is not None else None,
        collected_at_raw=command.collected_at_raw,
    )


def _raw_item(item: ReportedPool) -> dict[str, object]:
    raw: dict[str, object] = {"pool_id": item.pool_id, "az": item.az, "price": str(item.price)}
    if item.instance_type is not None:
        raw["instance_type"] = item.instance_type
    return raw


def _submissions(command: RecordPricingReportCommand, receipt: _Receipt, report_id: str) -> list[PricingSubmission]:
    """PR-3 – PR-6: one submission per item, flagged when invalid (PR-5) or skewed (PR-6)."""
    facts = command.instance
    collected = utc(command.collected_at) if command.collected_at is not None else None
    claim = command.collected_at_raw or (collected or receipt.received_at).isoformat()
    submissions = []
    for item in command.spot_pools:
        price = storable_price(item.price)
        flags = item_flags(item.pool_id, item.az, price, facts.instance_type, facts.region)
        valid = not flags
        if receipt.skewed:
            flags.append(CLOCK_SKEW_FLAG)
        submissions.append(
            PricingSubmission(
                submission_id=submission_id(receipt.agent.agent_id, receipt.instance_id, item.pool_id, claim),
                pool_id=item.pool_id[:MAX_POOL_ID_LENGTH],
                instance_type=facts.instance_type,
                region=facts.region,
                az=item.az[:_MAX_TEXT],
                spot_price=price,
                observed_at=receipt.observed_at,
                received_at=receipt.received_at,
                source_type=receipt.source,
                agent_id=receipt.agent.agent_id,
                instance_id=receipt.instance_id,
                client_id=command.client_id,
                report_id=report_id,
                is_valid=valid,
                validation_flags=flags,
                collected_at=collected,
            )
        )
    return submissions


def _pool(submission: PricingSubmission, now: datetime) -> SpotPool:
    """PR-32: pool ids are only ever ``<instance_type>.<az>`` of a valid item."""
    return SpotPool(submission.pool_id, submission.instance_type, submission.region, submission.az, now, now)
