"""Auto-switch evaluator, one agent per call (domain §7.2, CM-6, DP-14, DP-15, CC-4; pitfalls 14, 15, 19)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from spotopt.application.decisions.decision_inputs import DecisionInputs, decide_with_fallback
from spotopt.application.decisions.estimator_fallback import record_estimator_fallback
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.decisions import DecisionEngine, PolicyStore
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import Liveness
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch_planning import make_switch_command, plan_switch
from spotopt.domain.commands.values import CommandOrigin
from spotopt.domain.decisions.decision import Decision, should_store, switch_limited_event
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.shared.errors import RuleConflictError
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import AgentId, ClientId, new_id
from spotopt.domain.shared.pools import Mode
from spotopt.domain.shared.time import utc_iso


class Outcome(StrEnum):
    SKIPPED = "skipped"
    DECIDED = "decided"
    COMMAND_CREATED = "command_created"


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluateAutoSwitchCommand:
    client_id: ClientId
    agent_id: AgentId
    tick: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluateAutoSwitchResult:
    outcome: Outcome
    skip_reason: str | None = None
    decision: Decision | None = None
    stored: bool = False
    command: AgentCommand | None = None


def idempotency_key(agent_id: str, tick: datetime) -> str:
    """§7.2: ``eval:<agent_id>:<tick>``."""
    return f"eval:{agent_id}:{utc_iso(tick)}"


class EvaluateAutoSwitch:
    """- CC-4: the agent row is locked with SKIP LOCKED; an agent busy in a request is skipped this tick.
    - CM-6 (origin ``automatic``) is re-checked under the lock: enabled, auto-switch on, online, no open episode;
      an agent with a pending or delivered switch is skipped too (§7.2 inputs).
    - A move that is ``allowed`` becomes a command: origin ``automatic``, priority from the policy (savings 25,
      return to spot 25, risk 50; never >= 75, pitfall 15), TTL 15 min, ``decision_id``, key ``eval:<agent>:<tick>``
      (CM-7), CM-2 via ``plan_switch``; event ``command_created`` with notification ``switch-queued`` (pitfall 14).
    - DP-14: stored on a command, on a changed outcome against the previous evaluator decision, else hourly.
    - Pitfall 19: a move held by G1-G3 emits ``switch_limited`` at most once per agent per UTC day.
    - DP-3: a ``catboost`` decision that fell back to the rule estimator records ``estimator_fallback``.
    """

    def __init__(
        self, uow: UnitOfWork, clock: Clock, engine: DecisionEngine, policies: PolicyStore, inputs: DecisionInputs
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._engine = engine
        self._policies = policies
        self._inputs = inputs

    async def execute(self, command: EvaluateAutoSwitchCommand) -> EvaluateAutoSwitchResult:
        agent = await self._uow.agents.get_for_update_skip_locked(command.client_id, command.agent_id)
        if agent is None:
            return EvaluateAutoSwitchResult(outcome=Outcome.SKIPPED, skip_reason="locked_or_gone")
        now = self._clock.now()
        policy = await self._policies.active()
        inp = await self._inputs.for_agent(agent, trigger=Trigger.EVALUATOR, now=now, features=policy.uses_models)
        skip = _not_evaluable(agent, inp.episode_open, inp.switch_in_flight)
        if skip is not None:
            return EvaluateAutoSwitchResult(outcome=Outcome.SKIPPED, skip_reason=skip)
        decision = await decide_with_fallback(self._engine, inp, policy, now)
        decision_id = new_id()
        queued = await self._queue(agent, decision, decision_id, policy, command.tick, now)
        stored = await self._store(decision, decision_id, queued)
        events = await self._events(agent, decision, queued)
        await record_events(self._uow, events, now)
        fell_back = await record_estimator_fallback(self._uow, decision, now)
        if stored is not None or queued is not None or events or fell_back:
            await self._uow.commit()
        return EvaluateAutoSwitchResult(
            outcome=Outcome.COMMAND_CREATED if queued is not None else Outcome.DECIDED,
            decision=stored or decision,
            stored=stored is not None,
            command=queued,
        )

    async def _queue(
        self, agent: Agent, decision: Decision, decision_id: str, policy: PolicyDocument, tick: datetime, now: datetime
    ) -> AgentCommand | None:
        """CM-6: only an allowed decision becomes a command; CM-7 and CM-2 may still refuse it."""
        if not decision.allowed:
            return None
        key = idempotency_key(agent.agent_id, tick)
        if await self._uow.commands.find_by_idempotency_key(agent.agent_id, key) is not None:
            return None
        motive = decision.motive.value
        new = make_switch_command(
            agent, origin=CommandOrigin.AUTOMATIC, target_mode=decision.target_mode,
            target_pool_id=decision.target_pool_id, now=now, priority=policy.priority_for(motive), motive=motive,
            reason=decision.reason, decision_id=decision_id, idempotency_key=key,
        )  # fmt: skip
        try:
            plan = plan_switch(
                await self._uow.commands.list_for_agent(agent.agent_id), new,
                current_mode=agent.mode, current_pool_id=agent.pool_id,
            )  # fmt: skip
        except RuleConflictError:
            return None  # the evaluator never bypasses CM-1/CM-2; the next tick decides again
        await self._uow.commands.add(plan.command)
        agent.touch(now)
        return plan.command

    async def _store(self, decision: Decision, decision_id: str, queued: AgentCommand | None) -> Decision | None:
        """DP-14 / DP-15: the stored decision (with its id and command), or None when the rule skips it."""
        previous = await self._uow.decisions.latest_for_agent(decision.agent_id, trigger=Trigger.EVALUATOR)
        if not should_store(decision, previous, queued is not None):
            return None
        stored = decision.with_ids(decision_id, queued.command_id if queued else None)
        await self._uow.decisions.add(stored)
        return stored

    async def _events(self, agent: Agent, decision: Decision, queued: AgentCommand | None) -> list[DomainEvent]:
        events = [switch_queued(agent, decision, queued)] if queued is not None else []
        limited = switch_limited_event(decision, agent.client_id, notices.agent_label(agent))
        spec = limited.notification if limited is not None else None
        # Pitfall 19: once per agent and day for the system event as well, not only for the notification.
        if (
            limited is not None
            and spec is not None
            and not await self._uow.events.notification_exists(agent.client_id, spec.dedup_key)
        ):
            events.append(limited)
        return events


def _not_evaluable(agent: Agent, episode_open: bool, switch_in_flight: bool) -> str | None:
    """CM-6 (origin ``automatic``) and the §7.2 evaluator inputs, re-checked under the agent lock."""
    checks = (
        ("agent_disabled", not agent.enabled),
        ("auto_switch_disabled", not agent.auto_switch_enabled),
        ("offline", agent.liveness is not Liveness.ONLINE),
        ("emergency_in_progress", episode_open),
        ("switch_in_flight", switch_in_flight),
    )
    return next((reason for reason, fails in checks if fails), None)


def switch_queued(agent: Agent, decision: Decision, command: AgentCommand) -> DomainEvent:
    """§8.2 ``command_created`` with N-switch-queued (type ``switch-queued``, pitfall 14), NT-7 template."""
    frm = notices.placement(_mode(agent.mode), agent.instance_type, agent.az, agent.pool_id)
    to = notices.placement(command.target_mode.value, agent.instance_type, agent.az, command.target_pool_id)
    text = (
        f"{notices.agent_label(agent)}: {frm} → {to}; expected saving {_amount(decision.expected_hourly_savings)}/h, "
        f"risk {decision.risk:.2f} ({decision.reason.rstrip('.')})."
    )
    return notices.event(
        agent, "command_created", Severity.INFO, text,
        notify=("switch-queued", Severity.INFO, "Switch queued", text),
        dedup=f"command_created:{command.command_id}",
        command_id=command.command_id, origin=command.origin.value, decision_id=command.decision_id,
        motive=command.motive, priority=command.priority, target_mode=command.target_mode.value,
        target_pool_id=command.target_pool_id,
    )  # fmt: skip


def _amount(value: Decimal | None) -> str:
    """NT-7 rate amount with 4 decimals; unknown stays ``unknown``."""
    if value is None:
        return "unknown"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):.4f}"


def _mode(mode: Mode | None) -> str | None:
    return mode.value if mode is not None else None
