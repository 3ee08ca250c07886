"""A7: the agent reports a switch it executed (§2.6, S-1 … S-5, SW-1 … SW-4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.application.agents.placement import OldPrimaryFate, Placement
from spotopt.application.errors import ConflictError, NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import PlacementFacts
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceRole, TerminationReason
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.matching import find_correlated_command, switch_takeover
from spotopt.domain.commands.switch import InstanceFacts, Switch, SwitchTiming
from spotopt.domain.commands.values import CommandStatus
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.entry import CloseReason
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import ClientId, SwitchId, instance_id, new_id
from spotopt.domain.shared.pools import Mode, region_of_az

UNCORRELATED_LOOKBACK = timedelta(hours=2)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSwitchCommand:
    client_id: ClientId
    agent_id: str
    old: InstanceFacts
    new: InstanceFacts
    timing: SwitchTiming = field(default_factory=SwitchTiming)
    reported_prices: dict[str, object] | None = None
    trigger: str | None = None
    command_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSwitchResult:
    switch: Switch
    created: bool


def clamp_sw3(value: datetime | None, lower: datetime, received_at: datetime) -> datetime | None:
    """SW-3: reported times are clamped into ``[lower, received_at]``."""
    if value is None:
        return None
    return max(lower, min(value, received_at))


class ReportSwitch:
    """- S-1: one Switch per (agent, new instance); a repeat returns the recorded one.
    - S-2: correlation with the explicit command id, else the matching delivered/recently completed switch.
    - S-3/S-4 when the old instance is the primary (or the command targeted it): the new instance becomes the
      primary (unless R-5 already did), the old one terminated or kept; the command pinned and completed.
    - SW-2: the Switch's prices are server prices in effect, never the reported ones (kept verbatim).
    - SW-4: otherwise the report is recorded, nothing moves, warning ``switch_report_not_from_primary``.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, placement: Placement) -> None:
        self._uow = uow
        self._clock = clock
        self._placement = placement

    async def execute(self, command: ReportSwitchCommand) -> ReportSwitchResult:
        old_id, new_id_ = instance_id(command.old.instance_id), instance_id(command.new.instance_id)
        if old_id == new_id_:
            raise InvalidValueError("new_instance.instance_id", "must differ from old_instance.instance_id")
        agent = await self._uow.agents.get_for_update(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        recorded = await self._uow.switches.find_by_new_instance(agent.agent_id, new_id_)
        if recorded is not None:
            return ReportSwitchResult(switch=recorded, created=False)
        now = self._clock.now()
        correlated = await self._correlate(agent, command, now)
        lower = correlated.delivered_at if correlated and correlated.delivered_at else now - UNCORRELATED_LOOKBACK
        timing = SwitchTiming(
            *(clamp_sw3(getattr(command.timing, f), lower, now) for f in SwitchTiming.__dataclass_fields__)
        )
        applied = agent.primary_instance_id in (old_id, new_id_) or (
            correlated is not None and correlated.target_instance_id == agent.primary_instance_id
        )
        events = (
            await self._apply(agent, command, correlated, timing, now) if applied else [self._ignored(agent, old_id)]
        )
        switch = await self._record(agent, command, correlated, timing, applied, now)
        if applied:
            events.append(self._completed_event(agent, switch, now))
        await record_events(self._uow, events, now)
        await self._uow.commit()
        return ReportSwitchResult(switch=switch, created=True)

    async def _correlate(self, agent: Agent, command: ReportSwitchCommand, now: datetime) -> AgentCommand | None:
        commands = await self._uow.commands.list_for_agent(agent.agent_id, since=now - UNCORRELATED_LOOKBACK)
        switched = {
            c.command_id
            for c in commands
            if c.completed_at and await self._uow.switches.exists_for_command(c.command_id)
        }
        facts = _placement_facts(command.new)
        correlated = find_correlated_command(commands, command.command_id, facts, now, switched)
        if correlated is None and command.command_id:
            explicit = await self._uow.commands.get(agent.agent_id, command.command_id)
            correlated = explicit
        return correlated

    async def _apply(
        self,
        agent: Agent,
        command: ReportSwitchCommand,
        correlated: AgentCommand | None,
        timing: SwitchTiming,
        now: datetime,
    ) -> list[DomainEvent]:
        old = await self._uow.instances.get(agent.client_id, command.old.instance_id)
        new = await self._uow.instances.get(agent.client_id, command.new.instance_id)
        if new is not None and new.agent_id != agent.agent_id:
            # IN-1: an instance belongs to one agent; another agent's instance never becomes this one's primary.
            raise ConflictError("The new instance belongs to another agent", code="instance_in_use")
        events: list[DomainEvent] = []
        if new is not None and new.role is InstanceRole.PRIMARY:
            if old is not None and timing.old_terminated_at is not None and not old.is_terminated:
                await self._placement.terminate(
                    old, TerminationReason.SWITCHED_AWAY, timing.old_terminated_at, now, confirmed=True
                )
        else:
            events += await self._take_over(agent, command, correlated, timing, old, new, now)
        if correlated is not None and correlated.status is not CommandStatus.PENDING:
            # CM-9: pinning proves execution; a command that was never handed out is not pinned (it would block
            # the queue with a lease nobody holds).
            correlated.pin(now)
            if correlated.status is CommandStatus.DELIVERED:
                correlated.complete(now, "completed by switch report")
            await self._fallback_failed_over(agent, correlated, command.new.instance_id, now)
        agent.last_switch_at = now
        agent.touch(now)
        return events

    async def _take_over(
        self,
        agent: Agent,
        command: ReportSwitchCommand,
        correlated: AgentCommand | None,
        timing: SwitchTiming,
        old: Instance | None,
        new: Instance | None,
        now: datetime,
    ) -> list[DomainEvent]:
        """S-3 without a prior R-5: create (or attach) the new instance and make it the primary."""
        primary_entry = (
            await self._uow.ledger.open_entry(agent.client_id, agent.primary_instance_id)
            if agent.primary_instance_id
            else None
        )
        since = timing.traffic_switched_at or timing.ready_at or now
        if primary_entry is not None:
            since = max(since, primary_entry.started_at)
        episode = await self._fallback_episode(agent, correlated)
        takeover = switch_takeover(correlated, now=since, episode_deadline=episode.deadline if episode else None)
        if new is None:
            new = await self._create_new(agent, command, takeover.origin, since, now)
        fate = OldPrimaryFate(
            role=InstanceRole.KEPT_OLD,
            kept_reason=takeover.kept_reason,
            expected_at=takeover.termination_expected_at,
            cause=takeover.expected_cause,
        )
        # IN-4/AG-3: the replaced instance is the agent's primary, also when only the command targeted it (S-3).
        primary = (
            await self._uow.instances.get(agent.client_id, agent.primary_instance_id)
            if agent.primary_instance_id
            else None
        )
        events = await self._placement.make_primary(
            agent, new, primary, fate, at=since, now=now, reason=CloseReason.SWITCH, keep_command=correlated
        )
        if primary is not None and primary == old and timing.old_terminated_at is not None:
            # §5.2: the old primary's entry closes at primary_since; its kept-old entry at the reported termination.
            await self._uow.flush()  # the ledger read below must see the kept-old entry just opened
            await self._placement.terminate(
                primary, TerminationReason.SWITCHED_AWAY, max(timing.old_terminated_at, since), now, confirmed=True
            )
        return events

    async def _fallback_episode(self, agent: Agent, correlated: AgentCommand | None) -> InterruptionEpisode | None:
        """R-5/S-3 (pitfall 2): an emergency fallback's old primary is expected gone at its episode's deadline."""
        if correlated is None or not correlated.is_emergency:
            return None
        episodes = await self._uow.episodes.find_open(agent.agent_id)
        return next((e for e in episodes if e.fallback_command_id == correlated.command_id), None)

    async def _create_new(
        self, agent: Agent, command: ReportSwitchCommand, origin: object, since: datetime, now: datetime
    ) -> Instance:
        facts = command.new
        sighting = await self._uow.sightings.get(agent.client_id, facts.instance_id)
        if sighting is not None:
            await self._uow.sightings.delete(sighting)
        az = facts.az or agent.az or "unknown"
        instance = Instance(
            client_id=agent.client_id,
            instance_id=instance_id(facts.instance_id),
            agent_id=agent.agent_id,
            role=InstanceRole.PRIMARY,
            origin=origin,  # type: ignore[arg-type]
            instance_type=facts.instance_type or agent.instance_type or "unknown",
            region=facts.region or region_of_az(az),
            az=az,
            mode=_mode(facts.mode),
            first_seen_at=min(sighting.first_seen_at, since) if sighting else since,
            role_changed_at=since,
            ami_id=facts.ami_id,
            launched_at=since,
            last_seen_at=now,
        )
        await self._uow.instances.add(instance)
        return instance

    async def _fallback_failed_over(
        self, agent: Agent, correlated: AgentCommand, new_instance: str, now: datetime
    ) -> None:
        """S-4/V9: a terminating episode whose fallback command is this one is failed over."""
        for episode in await self._uow.episodes.find_open(agent.agent_id):
            if episode.fallback_command_id == correlated.command_id and episode.state is EpisodeState.TERMINATING:
                episode.close(EpisodeState.FAILED_OVER, now, "fallback_switch")
                episode.new_instance_id = instance_id(new_instance)

    async def _record(
        self,
        agent: Agent,
        command: ReportSwitchCommand,
        correlated: AgentCommand | None,
        timing: SwitchTiming,
        applied: bool,
        now: datetime,
    ) -> Switch:
        at = timing.traffic_switched_at or now
        old_price, baseline = await self._price(command.old, agent, at)
        new_price, _ = await self._price(command.new, agent, at)
        switch = Switch(
            switch_id=SwitchId(new_id()),
            client_id=agent.client_id,
            agent_id=agent.agent_id,
            logical_agent_id=agent.logical_agent_id,
            origin=correlated.origin.value if correlated else "agent",
            old=command.old,
            new=command.new,
            timing=timing,
            applied=applied,
            received_at=now,
            command_id=correlated.command_id if correlated else None,
            trigger=command.trigger,
            reported_prices=command.reported_prices,
            old_price=old_price,
            new_price=new_price,
            baseline=baseline,
        )
        await self._uow.switches.add(switch)
        return switch

    async def _price(self, facts: InstanceFacts, agent: Agent, at: datetime) -> tuple[Decimal | None, Decimal | None]:
        mode = _mode(facts.mode)
        instance_type = facts.instance_type or agent.instance_type or "unknown"
        region = facts.region or region_of_az(facts.az or "")
        pool_id = facts.pool_id or (f"{instance_type}.{facts.az}" if mode is Mode.SPOT and facts.az else None)
        price, baseline = await self._placement.ledger.price_of(mode, pool_id, instance_type, region, at)
        return price.price, baseline

    def _ignored(self, agent: Agent, old_id: str) -> DomainEvent:
        message = f"Switch report from {old_id}, which is not the primary; nothing moved"
        return notices.plain(agent, "switch_report_not_from_primary", Severity.WARNING, message, instance_id=old_id)

    def _completed_event(self, agent: Agent, switch: Switch, now: datetime) -> DomainEvent:
        saving = switch.baseline - switch.new_price if switch.baseline is not None and switch.new_price else None
        old_where = notices.placement(switch.old.mode, switch.old.instance_type, switch.old.az, switch.old.pool_id)
        new_where = notices.placement(switch.new.mode, switch.new.instance_type, switch.new.az, switch.new.pool_id)
        return notices.switch_completed(
            agent, switch.old.instance_id, old_where, switch.new.instance_id, new_where, saving, now
        )


def _mode(value: str | None) -> Mode:
    return Mode(value) if value in ("spot", "ondemand") else Mode.UNKNOWN


def _placement_facts(facts: InstanceFacts) -> PlacementFacts:
    return PlacementFacts(mode=_mode(facts.mode), instance_type=facts.instance_type, az=facts.az, region=facts.region)
