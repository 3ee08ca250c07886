"""A14: queue a switch with origin ``api`` (domain §2.5 CM-1/CM-2/CM-6/CM-7, §3.4 K1, §6.6)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.decisions.decision_inputs import DecisionInputs
from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.decisions import PolicyStore
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch_planning import API_PRIORITY_MAX, SwitchPlan, make_switch_command, plan_switch
from spotopt.domain.commands.values import CommandOrigin
from spotopt.domain.decisions.guards import check_api_command
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError, SettingDisabledError
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.pools import Mode, PoolId

MAX_REASON_LENGTH = 500
MAX_IDEMPOTENCY_KEY_LENGTH = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueSwitchCommand:
    client_id: ClientId
    agent_id: str
    target_mode: Mode
    target_pool_id: str | None = None
    reason: str | None = None
    priority: int | None = None
    idempotency_key: str | None = None

    def validate(self) -> None:
        """A14 body rules that span fields (400 before any state check, api §1.5)."""
        if self.target_mode not in (Mode.SPOT, Mode.ONDEMAND):
            raise InvalidValueError("target_mode", "must be spot or ondemand")
        if self.target_mode is Mode.SPOT and not self.target_pool_id:
            raise InvalidValueError("target_pool_id", "is required when target_mode is spot")
        if self.target_mode is Mode.ONDEMAND and self.target_pool_id is not None:
            raise InvalidValueError("target_pool_id", "must be null when target_mode is ondemand")
        if self.target_pool_id is not None:
            PoolId.parse(self.target_pool_id)
        if self.priority is not None and not 1 <= self.priority <= API_PRIORITY_MAX:
            raise InvalidValueError("priority", f"must be between 1 and {API_PRIORITY_MAX}")
        if self.reason is not None and len(self.reason) > MAX_REASON_LENGTH:
            raise InvalidValueError("reason", f"must be at most {MAX_REASON_LENGTH} characters")
        if self.idempotency_key is not None and not 0 < len(self.idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
            raise InvalidValueError("idempotency_key", f"must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters")


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueSwitchResult:
    command: AgentCommand
    created: bool


class IssueSwitch:
    """- Locks the agent row first (CC-3); a known ``idempotency_key`` returns the existing command (CM-7, 200).
    - CM-6 for origin ``api``: ``enabled`` and ``auto_switch_enabled`` (403 ``setting_disabled``), no open episode
      (409 ``emergency_in_progress``).
    - CM-1: the target is never the current placement (409 ``already_in_target``).
    - §6.6: G1-G3 (409 with ``retry_after``) and DP-7 conditions 1, 2, 4, 5 of the target pool (422).
    - CM-2 via ``plan_switch``: supersedes a pending switch of lower or equal priority; refuses beside a
      delivered one (``switch_in_flight``) or a higher-priority pending one (``switch_pending``).
    - K1: TTL 1 h, priority 1-75 (default 25), CM-5 wait, target instance = the primary; system event
      ``command_created`` without a notification (N-switch-queued belongs to the evaluator).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, policies: PolicyStore, inputs: DecisionInputs) -> None:
        self._uow = uow
        self._clock = clock
        self._policies = policies
        self._inputs = inputs

    async def execute(self, command: IssueSwitchCommand) -> IssueSwitchResult:
        command.validate()
        agent = await self._uow.agents.get_for_update(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        if command.idempotency_key is not None:
            existing = await self._uow.commands.find_by_idempotency_key(agent.agent_id, command.idempotency_key)
            if existing is not None:
                return IssueSwitchResult(command=existing, created=False)
        await self._check_creation_guards(agent)
        plan = await self._plan(agent, command)
        await self._uow.commands.add(plan.command)
        agent.touch(plan.command.created_at)
        await record_events(self._uow, [_command_created(agent, plan)], plan.command.created_at)
        await self._uow.commit()
        return IssueSwitchResult(command=plan.command, created=True)

    async def _check_creation_guards(self, agent: Agent) -> None:
        """CM-6 for origin ``api``."""
        if not agent.enabled:
            raise SettingDisabledError("The agent is disabled", setting="enabled", reason="agent_disabled")
        if not agent.auto_switch_enabled:
            raise SettingDisabledError(
                "Automatic switching is off for this agent",
                setting="auto_switch_enabled",
                reason="auto_switch_disabled",
            )
        episodes = await self._uow.episodes.find_open(agent.agent_id)
        if episodes:
            raise RuleConflictError(
                "An interruption episode is open", code="emergency_in_progress", episode_id=episodes[0].episode_id
            )

    async def _plan(self, agent: Agent, command: IssueSwitchCommand) -> SwitchPlan:
        now = self._clock.now()
        new = make_switch_command(
            agent, origin=CommandOrigin.API, target_mode=command.target_mode, target_pool_id=command.target_pool_id,
            now=now, priority=command.priority, reason=command.reason, idempotency_key=command.idempotency_key,
        )  # fmt: skip
        if new.target_matches(agent.mode, agent.pool_id):
            raise RuleConflictError("The target is the current placement", code="already_in_target")
        inp = await self._inputs.for_agent(agent, trigger=Trigger.DECIDE_REQUEST, now=now)
        check_api_command(inp, new.target_mode, new.target_pool_id, await self._policies.active(), now)
        existing = await self._uow.commands.list_for_agent(agent.agent_id)
        return plan_switch(existing, new, current_mode=agent.mode, current_pool_id=agent.pool_id)


def _command_created(agent: Agent, plan: SwitchPlan) -> DomainEvent:
    """§8.2 ``command_created`` for an ``api`` command: a system event only."""
    command = plan.command
    frm = notices.placement(_mode(agent.mode), agent.instance_type, agent.az, agent.pool_id)
    to = notices.placement(command.target_mode.value, agent.instance_type, agent.az, command.target_pool_id)
    text = f"{notices.agent_label(agent)}: switch {frm} → {to} queued by API request (priority {command.priority})."
    return notices.plain(
        agent, "command_created", Severity.INFO, text, command_id=command.command_id, origin=command.origin.value,
        target_mode=command.target_mode.value, target_pool_id=command.target_pool_id, priority=command.priority,
        superseded_command_id=command.superseded_command_id,
    )  # fmt: skip


def _mode(mode: Mode | None) -> str | None:
    return mode.value if mode is not None else None
