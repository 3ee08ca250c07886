"""C16: a client's manual switch (origin ``manual``) through the A14 queue rules (domain CM-1/CM-2/CM-6/CM-7, K1).

The command is built by ``make_switch_command`` and queued by ``plan_switch``, exactly as A14 does; only the
creation guards differ (CM-6 ``manual``: enabled, no ``terminating`` episode, no decision guards, §6.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.decisions.decision_inputs import DecisionInputs
from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.decisions import PolicyStore
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents import notices
from spotopt.domain.agents.agent import Agent
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch_planning import make_switch_command, plan_switch
from spotopt.domain.commands.values import CommandOrigin
from spotopt.domain.decisions.candidates import evaluate_pools
from spotopt.domain.decisions.estimation import RuleEstimator
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.shared.errors import (
    InvalidValueError,
    RuleConflictError,
    SettingDisabledError,
    UnusableTargetError,
)
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.pools import Mode, PoolId

TARGETS = frozenset({"ondemand", "spot", "pool"})
MAX_REASON_LENGTH = 500
MAX_IDEMPOTENCY_KEY_LENGTH = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class ForceSwitchCommand:
    client_id: ClientId
    instance_id: str
    target: str
    pool_id: str | None = None
    new_instance_type: str | None = None
    reason: str | None = None
    idempotency_key: str | None = None

    def validate(self) -> None:
        """C16 body rules across fields (400 before any state check)."""
        if self.target not in TARGETS:
            raise InvalidValueError("target", "must be ondemand, spot or pool")
        if self.target == "pool" and not self.pool_id:
            raise InvalidValueError("pool_id", "is required when target is pool")
        if self.target == "ondemand" and self.pool_id is not None:
            raise InvalidValueError("pool_id", "must be omitted when target is ondemand")
        if self.pool_id is not None:
            PoolId.parse(self.pool_id)
        if self.reason is not None and len(self.reason) > MAX_REASON_LENGTH:
            raise InvalidValueError("reason", f"must be at most {MAX_REASON_LENGTH} characters")
        if self.idempotency_key is not None and not 0 < len(self.idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
            raise InvalidValueError("idempotency_key", f"must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters")


@dataclass(frozen=True, slots=True, kw_only=True)
class ForceSwitchResult:
    command: AgentCommand
    created: bool


class ForceSwitch:
    """- The instance must be the client's (else 404); its agent is locked first (CC-3) and the instance must be
      that non-deleted agent's primary after the lock (409 ``not_primary``).
    - A known ``idempotency_key`` returns the existing command (CM-7, 200).
    - CM-6 ``manual``: ``enabled`` (403 ``setting_disabled``) and no ``terminating`` episode (409
      ``emergency_in_progress``); an ``at_risk`` episode allows the move. No decision guard applies (§6.6).
    - Target: ``pool`` (or ``spot`` with a pool) must be of the same type and region (422 ``pool_mismatch``) and
      available (422 ``pool_unavailable``, PR-33); ``spot`` without a pool takes the best eligible pool (DP-7,
      §6.7; 409 ``no_eligible_pool``); ``new_instance_type`` must be the current type (422).
    - K1 via the A14 planner: priority 75, TTL 24 h, CM-5 wait, supersedes a pending switch of lower or equal
      priority, refused beside a delivered or higher-priority one (CM-2); ``command_created`` with
      N-manual-switch-queued.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, policies: PolicyStore, inputs: DecisionInputs) -> None:
        self._uow = uow
        self._clock = clock
        self._policies = policies
        self._inputs = inputs

    async def execute(self, command: ForceSwitchCommand) -> ForceSwitchResult:
        command.validate()
        instance = await self._uow.instances.get(command.client_id, command.instance_id)
        if instance is None:
            raise NotFoundError("Instance not found")
        agent = await self._uow.agents.get_for_update(command.client_id, instance.agent_id)
        if agent is None or agent.primary_instance_id != instance.instance_id:
            raise RuleConflictError("The instance is not the primary of an agent", code="not_primary")
        if command.idempotency_key is not None:
            existing = await self._uow.commands.find_by_idempotency_key(agent.agent_id, command.idempotency_key)
            if existing is not None:
                return ForceSwitchResult(command=existing, created=False)
        if command.new_instance_type is not None and command.new_instance_type != agent.instance_type:
            raise UnusableTargetError(
                "Instance type changes are not supported", code="instance_type_change_unsupported"
            )
        await self._check_creation_guards(agent)
        now = self._clock.now()
        mode, pool_id = await self._target(agent, command, now)
        new = make_switch_command(
            agent, origin=CommandOrigin.MANUAL, target_mode=mode, target_pool_id=pool_id, now=now,
            reason=command.reason, idempotency_key=command.idempotency_key,
        )  # fmt: skip
        existing_commands = await self._uow.commands.list_for_agent(agent.agent_id)
        plan = plan_switch(existing_commands, new, current_mode=agent.mode, current_pool_id=agent.pool_id)
        await self._uow.commands.add(plan.command)
        agent.touch(now)
        await record_events(self._uow, [_manual_switch_queued(agent, plan.command)], now)
        await self._uow.commit()
        return ForceSwitchResult(command=plan.command, created=True)

    async def _check_creation_guards(self, agent: Agent) -> None:
        """CM-6 for origin ``manual``."""
        if not agent.enabled:
            raise SettingDisabledError("The agent is disabled", setting="enabled", reason="agent_disabled")
        for episode in await self._uow.episodes.find_open(agent.agent_id):
            if episode.state is EpisodeState.TERMINATING:
                raise RuleConflictError(
                    "A termination is in progress", code="emergency_in_progress", episode_id=episode.episode_id
                )

    async def _target(self, agent: Agent, command: ForceSwitchCommand, now: datetime) -> tuple[Mode, str | None]:
        if command.target == "ondemand":
            return Mode.ONDEMAND, None
        if command.pool_id is None:
            return Mode.SPOT, await self._best_pool(agent, now)
        pool = PoolId.parse(command.pool_id)
        if pool.instance_type != agent.instance_type or pool.region != agent.region:
            raise UnusableTargetError(
                "The pool is of another instance type or region", code="pool_mismatch", pool_id=str(pool)
            )
        snapshot = next((p for p in await self._inputs.pools(agent, now) if p.pool_id == str(pool)), None)
        if snapshot is None or not snapshot.available:
            raise UnusableTargetError("The pool is not available", code="pool_unavailable", pool_id=str(pool))
        return Mode.SPOT, str(pool)

    async def _best_pool(self, agent: Agent, now: datetime) -> str:
        """``spot`` without a pool: the best eligible pool (DP-7 all conditions, §6.7 ranking, rule estimator)."""
        policy = await self._policies.active()
        inp = await self._inputs.for_agent(agent, trigger=Trigger.DECIDE_REQUEST, now=now)
        estimates = RuleEstimator.for_policy(policy).estimate(inp.pools, now)
        _, ranked = evaluate_pools(inp, estimates, policy, now)
        if not ranked:
            raise RuleConflictError("No eligible spot pool", code="no_eligible_pool")
        return ranked[0].pool_id


def target_label(command: AgentCommand) -> str:
    """The C16 message's ``<target>``: ``ondemand`` or the pool id."""
    return command.target_pool_id or command.target_mode.value


def _manual_switch_queued(agent: Agent, command: AgentCommand) -> DomainEvent:
    """§8.2 ``command_created`` with N-manual-switch-queued."""
    to = notices.placement(command.target_mode.value, agent.instance_type, agent.az, command.target_pool_id)
    text = f"{notices.agent_label(agent)}: switch to {to} requested."
    return notices.event(
        agent, "command_created", Severity.INFO, text,
        notify=("manual-switch-queued", Severity.INFO, "Manual switch queued", text),
        dedup=f"command_created:{command.command_id}",
        command_id=command.command_id, origin=command.origin.value, target_mode=command.target_mode.value,
        target_pool_id=command.target_pool_id, priority=command.priority,
        superseded_command_id=command.superseded_command_id,
    )  # fmt: skip
