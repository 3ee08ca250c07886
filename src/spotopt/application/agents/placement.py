"""Placement changes shared by registration (R-5, R-6), switch reports (S-3), terminations and promotions.

An application service (house style §7: use cases never call each other; shared logic lives here). Every method
runs inside the caller's transaction; the caller has locked the agent row (CC-3) and commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.ledger.ledger_book import LedgerBook
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import (
    PlacementFacts,
    merge_facts,
)
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import ExpectedCause, InstanceRole, KeptReason, TerminationReason
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.values import CommandStatus, CommandType
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.entry import CloseReason
from spotopt.domain.replicas.lifecycle import RetireReason, retire
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind
from spotopt.domain.shared.events import DomainEvent, Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class OldPrimaryFate:
    """What becomes of the replaced primary (IN-4: always an explicit new role, same transaction)."""

    role: InstanceRole
    kept_reason: KeptReason | None = None
    expected_at: datetime | None = None
    cause: ExpectedCause | None = None
    termination_reason: TerminationReason | None = None
    terminated_at: datetime | None = None
    confirmed: bool = False


class Placement:
    def __init__(self, uow: UnitOfWork, ledger: LedgerBook) -> None:
        self._uow = uow
        self._ledger = ledger

    @property
    def ledger(self) -> LedgerBook:
        return self._ledger

    async def make_primary(
        self,
        agent: Agent,
        new: Instance,
        old: Instance | None,
        fate: OldPrimaryFate,
        *,
        at: datetime,
        now: datetime,
        reason: CloseReason,
        keep_command: AgentCommand | None = None,
    ) -> list[DomainEvent]:
        """AG-3/AG-4/IN-4: ``new`` becomes the one primary at ``at``; ``old`` takes ``fate``; S-4 side effects."""
        events: list[DomainEvent] = []
        if old is not None and old != new and old.role is InstanceRole.PRIMARY:
            events += await self.apply_fate(agent, old, fate, at=at, now=now, reason=reason)
        was_new = await self._uow.ledger.open_entry(new.client_id, new.instance_id) is None
        new.make_primary(at)
        if was_new:
            await self._ledger.open(new, at, now)
        else:
            await self._ledger.role_changed(new, at, now, reason)
        agent.set_placement(
            instance_id=new.instance_id,
            instance_type=new.instance_type,
            region=new.region,
            az=new.az,
            mode=new.mode,
            pool_id=new.pool_id,
            since=at,
        )
        agent.last_primary_change_at = now
        agent.touch(now)
        if old is not None and old != new:
            await self.cancel_switches_for(agent, old.instance_id, now, keep=keep_command)
            events += await self.supersede_at_risk_episode(agent, old.instance_id, now, new_instance=new)
        events += await self.retire_replicas_in_pool(agent, new, now)
        return events

    async def apply_fate(
        self, _agent: Agent, old: Instance, fate: OldPrimaryFate, *, at: datetime, now: datetime, reason: CloseReason
    ) -> list[DomainEvent]:
        if fate.role is InstanceRole.TERMINATED:
            await self.terminate(
                old,
                fate.termination_reason or TerminationReason.REPORTED,
                fate.terminated_at or at,
                now,
                confirmed=fate.confirmed,
            )
            return []
        if fate.role is InstanceRole.STANDBY:
            old.make_standby(at)
        else:
            old.keep_old(fate.kept_reason or KeptReason.KEPT, at, expected_at=fate.expected_at, cause=fate.cause)
        await self._ledger.role_changed(old, at, now, reason)
        return []

    async def terminate(
        self,
        instance: Instance,
        reason: TerminationReason,
        at: datetime,
        now: datetime,
        *,
        confirmed: bool,
        close_reason: CloseReason = CloseReason.TERMINATED,
    ) -> None:
        """I8/I11/I12/I13: the instance stops at ``at`` (clamped into its open ledger entry, IN-7/LG-3)."""
        if instance.is_terminated:
            instance.terminate(reason, at, now, confirmed=confirmed)
            return
        entry = await self._uow.ledger.open_entry(instance.client_id, instance.instance_id)
        stop = max(at, entry.started_at) if entry is not None else at
        stop = min(stop, now)
        instance.terminate(reason, stop, now, confirmed=confirmed)
        await self._ledger.closed(instance, stop, now, close_reason, unconfirmed=not confirmed)

    async def cancel_switches_for(
        self, agent: Agent, old_instance_id: str, now: datetime, *, keep: AgentCommand | None = None
    ) -> list[AgentCommand]:
        """S-4/K3: pending switch commands targeting the old primary are cancelled (``primary_changed``)."""
        cancelled = []
        for command in await self._uow.commands.list_for_agent(agent.agent_id):
            if (
                command.status is CommandStatus.PENDING
                and command.type is CommandType.SWITCH
                and command.target_instance_id == old_instance_id
                and command != keep
            ):
                command.cancel("primary_changed", now)
                cancelled.append(command)
        return cancelled

    async def supersede_at_risk_episode(
        self, agent: Agent, instance_id: str, now: datetime, *, new_instance: Instance | None = None
    ) -> list[DomainEvent]:
        """V7: an ``at_risk`` episode of a replaced primary is superseded and its replica released."""
        events: list[DomainEvent] = []
        for episode in await self._uow.episodes.find_open(agent.agent_id, instance_id):
            if episode.state is not EpisodeState.AT_RISK:
                continue
            episode.close(EpisodeState.SUPERSEDED, now, "primary_changed")
            events += await self.release_superseded(agent, episode, now, new_instance=new_instance)
        return events

    async def release_superseded(
        self, agent: Agent, episode: InterruptionEpisode, now: datetime, *, new_instance: Instance | None = None
    ) -> list[DomainEvent]:
        """V7/V11: the superseded episode's emergency replica is retired unless it became the primary; in
        manual-replica mode a ``manual`` standby is detached from the episode and kept (§3.6).
        """
        replica = await self._uow.replicas.get(agent.agent_id, episode.replica_id) if episode.replica_id else None
        if replica is None or not replica.is_active:
            return []
        if new_instance is not None and replica.instance_id == new_instance.instance_id:
            return []
        if agent.manual_replica_enabled and replica.kind is ReplicaKind.MANUAL:
            replica.episode_id = None
            return []
        return await self.retire_replica(agent, replica, RetireReason.EPISODE_CLOSED, now)

    async def retire_replicas_in_pool(self, agent: Agent, primary: Instance, now: datetime) -> list[DomainEvent]:
        """RP-1: a replica in the primary's pool is retired in the same transaction (``pool_conflict``)."""
        events: list[DomainEvent] = []
        if primary.pool_id is None:
            return events
        for replica in await self._uow.replicas.list_for_agent(agent.agent_id):
            if replica.pool_id == primary.pool_id and replica.instance_id != primary.instance_id:
                events += await self.retire_replica(agent, replica, RetireReason.POOL_CONFLICT, now)
        return events

    async def retire_replica(
        self, agent: Agent, replica: Replica, reason: RetireReason, now: datetime
    ) -> list[DomainEvent]:
        """L11 with its instance effect (I9: kept-old, termination requested, N-terminate-instance)."""
        transition = retire(replica, reason, now)
        if not transition.applied:
            return []
        events = [
            notices.plain(agent, e, Severity.WARNING, f"Replica {replica.replica_id}: {e}") for e in transition.events
        ]
        if replica.instance_id is None or transition.instance_kept_reason is None:
            return events
        instance = await self._uow.instances.get(agent.client_id, replica.instance_id)
        if instance is None or instance.is_terminated:
            return events
        instance.keep_old(transition.instance_kept_reason, now)
        await self._ledger.role_changed(instance, now, now, CloseReason.ROLE_CHANGE)
        price, _ = await self._ledger.quote(instance, now)
        where = notices.placement(instance.mode, instance.instance_type, instance.az, instance.pool_id)
        events.append(
            notices.terminate_instance_requested(agent, instance.instance_id, where, str(reason), price.price, now)
        )
        return events


async def adopt(
    placement: Placement,
    uow: UnitOfWork,
    agent: Agent,
    new: Instance,
    old: Instance | None,
    deadline: datetime | None,
    now: datetime,
) -> list[DomainEvent]:
    """R-6 (shared with H-4): adopt ``new``; the old primary is presumed gone, or interrupted past its deadline."""
    interrupted = deadline is not None and now > deadline
    fate = OldPrimaryFate(
        role=InstanceRole.TERMINATED,
        termination_reason=TerminationReason.INTERRUPTED if interrupted else TerminationReason.PRESUMED_GONE,
        terminated_at=min(deadline, now) if interrupted and deadline else (old.last_seen_at or now) if old else now,
        confirmed=interrupted,
    )
    events: list[DomainEvent] = []
    if old is not None:
        for episode in await uow.episodes.find_open(agent.agent_id, old.instance_id):
            episode.close(EpisodeState.SUPERSEDED, now, "adopted")  # V11
            events += await placement.release_superseded(agent, episode, now, new_instance=new)
    events += await placement.make_primary(agent, new, old, fate, at=now, now=now, reason=CloseReason.ROLE_CHANGE)
    events.append(notices.primary_adopted(agent, new.instance_id, old.instance_id if old else None, now))
    return events


def correct_facts(agent: Agent, instance: Instance, reported: PlacementFacts) -> list[DomainEvent]:
    """R-2/H-2: known facts change only to other known values (pitfall 13); the agent snapshot follows (AG-4)."""
    known = PlacementFacts(
        mode=instance.mode, instance_type=instance.instance_type, az=instance.az, region=instance.region
    )
    merged = merge_facts(known, reported)
    if merged.facts == known:
        return []
    instance.mode = merged.facts.mode
    instance.instance_type = merged.facts.instance_type or instance.instance_type
    instance.az = merged.facts.az or instance.az
    instance.region = merged.facts.region or instance.region
    agent.set_placement(
        instance_id=instance.instance_id,
        instance_type=instance.instance_type,
        region=instance.region,
        az=instance.az,
        mode=instance.mode,
        pool_id=instance.pool_id,
        since=agent.placement_since,
    )
    if not merged.corrected:
        return []
    message = f"Instance {instance.instance_id} facts corrected: {', '.join(merged.corrected)}"
    return [
        notices.plain(agent, "instance_facts_corrected", Severity.WARNING, message, instance_id=instance.instance_id)
    ]
