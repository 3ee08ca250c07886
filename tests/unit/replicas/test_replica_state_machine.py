"""Issue 3 "Done when": a hypothesis state machine drives the replica use cases (R1 both forms, R2 claim, R3 - R9,
A10, the replica coordinator) over the in-memory store with a fixed clock, through random orderings of launches,
reports, promotions, retirements, rebalances, termination notices and their retries, clock jumps from a second to
hours, and mode flips between auto-switch and manual-replica. After every step the invariants of
``replica_checks`` hold: AG-3, RP-1, RP-3/IN-5, RP-6, EP-1, IN-3, IN-8 and the A.1 counters; every answer claiming a
failover names a committed promotion (EP-4), and repeats of R8/R9 in one episode answer the same replica and the
same failover (W33, W38).

One use case is one transaction (CC-1): a refused call (any ``DomainError``) restores the store as it was.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar
from unittest import mock

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from spotopt.application.interruptions.signal_intake import SignalOutcome
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.interruptions.emergency import Action
from spotopt.domain.interruptions.values import EpisodeState, SignalKind
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus, SyncStatus
from spotopt.domain.shared.errors import DomainError
from spotopt.entrypoints.http.interruptions.answers import r8_answer, r9_answer
from tests.factories import replica_checks as checks
from tests.factories.agents import make_heartbeat
from tests.factories.replica_world import POOL_A, POOL_B, POOL_C, POOL_D, ReplicaWorld

T = TypeVar("T")
POOLS = (POOL_A, POOL_B, POOL_C, POOL_D)
SECONDS = (1, 5, 10, 25, 31, 61, 119, 181, 600, 901, 1201, 3600, 7201, 4 * 3600)
# Deadline claims relative to now; -300 s and +20 min lie outside EP-6's window (→ estimated deadline).
DEADLINES = (None, 120, 45, 20, 5, -30, -300, 1200)
TARGETS = ("primary", "absent", "standby", "old", "unknown")
UNKNOWN = "i-0ffffffffffffff00"
REPORTS = (ReplicaStatus.LAUNCHING, ReplicaStatus.SYNCING, ReplicaStatus.READY, ReplicaStatus.FAILED)
REFUSALS = {  # the answers a route may give to a well-formed request (api §4); anything else is a bug
    "register": {"replica_not_allowed", "instance_in_use", "pool_mismatch"},
    "request": {"setting_disabled", "replica_exists", "no_eligible_pool", "pool_mismatch", "pool_unavailable"},
    "attach": {"replica_terminal", "instance_id_conflict"},
    "status": {"invalid_transition"},
    "sync": {"invalid_transition", "replica_terminal"},
    "promote": {"replica_not_promotable", "promotion_in_progress"},
    "retire": {"replica_terminal"},
    "claim": set(),
}


@dataclass(frozen=True, slots=True)
class Signal:
    """One interruption call as the agent makes it (route, instance named, deadline claim)."""

    route: str  # "r8", "r9" or "a10"
    kind: SignalKind
    instance_id: str | None
    termination_time: Any = None


class ReplicaStateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.world = ReplicaWorld()
        self.agent_id = ""
        self.serial = 0x100
        self.ids = 0
        # Server ids decide tie-breaks (oldest, then id): deterministic ids make every example replayable.
        self.uuid_patch = mock.patch("uuid.uuid4", self._next_uuid)
        self.uuid_patch.start()
        self.last: tuple[Signal, SignalOutcome] | None = None
        self.failovers: dict[str, dict[str, Any]] = {}  # episode id → the R9 200 body first answered (W38)
        self.episode_replica: dict[str, str] = {}  # episode id → the replica last answered for it (RP-6, W33)

    def _next_uuid(self) -> uuid.UUID:
        self.ids += 1
        return uuid.UUID(int=self.ids, version=4)

    def teardown(self) -> None:
        self.uuid_patch.stop()
        self.loop.close()

    # --- plumbing -------------------------------------------------------------------------------------------------

    @property
    def agent(self) -> Agent:
        return self.world.uow.store.agents[self.agent_id]

    def call(self, route: str, work: Callable[[Agent], Awaitable[T]]) -> T | None:
        """One use case, one transaction (CC-1): a refusal leaves the store as it was (its scope ends without a
        commit, and the fake unit of work discards what it wrote) and must be a documented answer."""
        self.last = None
        before = repr(self.world.uow.store)
        try:
            return self.loop.run_until_complete(work(self.agent))
        except DomainError as exc:
            refused = exc
        assert repr(self.world.uow.store) == before, f"{route} refused ({refused.code}) but changed the store"
        assert refused.code in REFUSALS[route], (route, refused.code, refused.message, refused.detail)
        event(f"{route}: {refused.code}")
        return None

    def replica_at(self, index: int) -> Replica | None:
        replicas = self.world.replicas(self.agent)
        return replicas[index % len(replicas)] if replicas else None

    def new_instance_id(self) -> str:
        self.serial += 1
        return f"i-{self.serial:017x}"

    def instance_for(self, choice: str) -> str:
        """A fresh EC2 id, or one the client already uses (the primary's, another instance's)."""
        instances = [i for i in self.world.uow.store.instances.values() if i.agent_id == self.agent_id]
        taken = [i.instance_id for i in instances if i.instance_id != self.agent.primary_instance_id]
        if choice == "primary" and self.agent.primary_instance_id is not None:
            return self.agent.primary_instance_id
        if choice == "taken" and taken:
            return taken[-1]
        return self.new_instance_id()

    def target(self, choice: str) -> str | None:
        """The instance a signal names: the primary, none (EP-7: the primary), a standby's, a kept-old or
        terminated one, or one unknown to the agent."""
        if choice == "absent":
            return None
        agent, world = self.agent, self.world
        named: dict[str, list[str]] = {
            "standby": [r.instance_id for r in world.replicas(agent, live=True) if r.instance_id is not None],
            "old": [
                i.instance_id
                for i in world.uow.store.instances.values()
                if i.agent_id == agent.agent_id and i.role in (InstanceRole.KEPT_OLD, InstanceRole.TERMINATED)
            ],
            "unknown": [UNKNOWN],
        }
        found = named.get(choice, [])
        return found[-1] if found else agent.primary_instance_id

    def deadline(self, offset: int | None) -> Any:
        return None if offset is None else self.world.clock.now() + timedelta(seconds=offset)

    def signal(self, signal: Signal) -> SignalOutcome:
        """An interruption call never fails (EP-4: always an answer; refusals are answers, never exceptions)."""
        world = self.world

        async def work(agent: Agent) -> SignalOutcome:
            if signal.route == "a10":
                return await world.rebalance(agent, instance_id=signal.instance_id)
            if signal.route == "r9":
                return await world.imminent(
                    agent, instance_id=signal.instance_id, termination_time=signal.termination_time
                )
            return await world.emergency(
                agent, signal.kind, instance_id=signal.instance_id, termination_time=signal.termination_time
            )

        self.last = None
        outcome = self.loop.run_until_complete(work(self.agent))
        event(f"{signal.route} {signal.kind}: {outcome.action}")
        self.observe(signal, outcome)
        self.last = (signal, outcome) if signal.instance_id is not None else None
        return outcome

    def observe(self, signal: Signal, outcome: SignalOutcome) -> None:
        """EP-4 (success only for a committed promotion), W38 (one failover result per episode), RP-6/W33."""
        if outcome.action is Action.REPLICA_PROMOTED:
            body = checks.committed_failover(self.world, outcome)
            assert outcome.episode is not None
            assert self.failovers.setdefault(outcome.episode.episode_id, body) == body
        if outcome.kind is SignalKind.TERMINATION:  # R9's answer, for a notice (R8 or R9)
            r9 = r9_answer(outcome)
            assert (r9.status == 200) is (outcome.action is Action.REPLICA_PROMOTED)  # 202/409 otherwise
            assert r9.success is not True or outcome.action is Action.REPLICA_PROMOTED
            assert r9.status in (200, 202, 409)
        if r8_answer(outcome).status == 201:
            assert outcome.created
            assert outcome.replica is not None
            assert outcome.replica.created_at == self.world.clock.now()
        if outcome.episode is None or outcome.replica is None:
            return
        episode_id, replica_id = outcome.episode.episode_id, outcome.replica.replica_id
        previous = self.episode_replica.get(episode_id)
        if previous is not None and previous != replica_id:  # replaced only after it ended (RP-6)
            assert self.world.uow.store.replicas[previous].status in (ReplicaStatus.FAILED, ReplicaStatus.TERMINATED)
        self.episode_replica[episode_id] = replica_id

    # --- set-up and environment -----------------------------------------------------------------------------------

    @initialize(manual=st.booleans())
    def start(self, manual: bool) -> None:
        self.agent_id = self.loop.run_until_complete(self.world.agent(manual=manual)).agent_id

    @rule(seconds=st.sampled_from(SECONDS))
    def advance_clock(self, seconds: int) -> None:
        self.last = None
        self.world.advance(seconds=seconds)

    @precondition(lambda self: self.agent.primary_instance_id is not None)
    @rule()
    def heartbeat(self) -> None:
        self.last = None
        primary = self.agent.primary_instance_id
        self.loop.run_until_complete(self.world.heartbeat.execute(make_heartbeat(self.agent, primary)))

    @rule(manual=st.booleans())
    def change_mode(self, manual: bool) -> None:
        """No settings use case yet: the flags change directly (AG-5 holds by construction)."""
        self.last = None
        self.agent.auto_switch_enabled, self.agent.manual_replica_enabled = not manual, manual

    @rule(available=st.booleans())
    def refresh_market(self, available: bool) -> None:
        """Fresh prices in every pool; or pools last seen 25 h ago (unavailable, PR-33): no emergency pool."""
        self.last = None
        seen = None if available else self.world.clock.now() - timedelta(hours=25)
        self.loop.run_until_complete(self.world.market(seen=seen))

    @rule()
    def coordinator_tick(self) -> None:
        self.last = None
        self.loop.run_until_complete(self.world.coordinate(self.agent))

    # --- replica routes -------------------------------------------------------------------------------------------

    @rule(
        pool=st.sampled_from(POOLS),
        instance=st.sampled_from(("new", "new", "taken", "primary")),
        status=st.sampled_from((None, ReplicaStatus.LAUNCHING, ReplicaStatus.SYNCING, ReplicaStatus.READY)),
        kind=st.sampled_from(tuple(ReplicaKind)),
    )
    def register_replica(self, pool: str, instance: str, status: ReplicaStatus | None, kind: ReplicaKind) -> None:
        """R1 register form (L2, the agent launched it)."""
        iid = self.instance_for(instance)
        self.call(
            "register",
            lambda a: self.world.create(a, instance_id=iid, pool_id=pool, status=status, replica_type=kind),
        )

    @rule(pool=st.sampled_from((None, *POOLS)))
    def request_replica(self, pool: str | None) -> None:
        """R1 request form (L1, a launch request)."""
        self.call("request", lambda a: self.world.create(a, pool_id=pool))

    @rule()
    def launcher_claims(self) -> None:
        """R2 ``?status=launching`` (L3)."""
        self.call("claim", lambda a: self.world.list_replicas(a, statuses=frozenset({ReplicaStatus.LAUNCHING})))

    @rule(
        index=st.integers(0, 7),
        instance=st.sampled_from(("new", "new", "taken")),
        ready=st.booleans(),
    )
    def attach_instance(self, index: int, instance: str, ready: bool) -> None:
        """R5 (L4/L5)."""
        replica = self.replica_at(index)
        if replica is None:
            return
        iid = self.instance_for(instance)
        status = ReplicaStatus.READY if ready else ReplicaStatus.SYNCING
        self.call("attach", lambda a: self.world.attach(a, replica, iid, status=status))

    @rule(index=st.integers(0, 7), status=st.sampled_from((*REPORTS, ReplicaStatus.TERMINATED)))
    def report_status(self, index: int, status: ReplicaStatus) -> None:
        """R6 (L4 - L16)."""
        replica = self.replica_at(index)
        if replica is not None:
            self.call("status", lambda a: self.world.report(a, replica, status))

    @rule(
        index=st.integers(0, 7),
        sync_status=st.sampled_from((None, *SyncStatus)),
        progress=st.sampled_from((None, Decimal(0), Decimal(40), Decimal("99.5"), Decimal(100))),
        status=st.sampled_from((None, ReplicaStatus.SYNCING, ReplicaStatus.READY)),
    )
    def report_sync(
        self, index: int, sync_status: SyncStatus | None, progress: Decimal | None, status: ReplicaStatus | None
    ) -> None:
        """R7 (L6 - L8 and the sync sub-state table)."""
        replica = self.replica_at(index)
        if replica is None or (sync_status, progress, status) == (None, None, None):
            return
        self.call(
            "sync",
            lambda a: self.world.sync(
                a, replica, sync_status=sync_status, state_transfer_progress=progress, status=status
            ),
        )

    @rule(index=st.integers(0, 7), demote=st.booleans())
    def promote(self, index: int, demote: bool) -> None:
        """R3 (§3.7.3, RP-4a only)."""
        replica = self.replica_at(index)
        if replica is not None:
            self.call("promote", lambda a: self.world.promote(a, replica, demote_old_primary=demote))

    @rule(index=st.integers(0, 7))
    def retire(self, index: int) -> None:
        """R4 (L11)."""
        replica = self.replica_at(index)
        if replica is not None:
            self.call("retire", lambda a: self.world.retire(a, replica))

    # --- interruption signals -------------------------------------------------------------------------------------

    @rule(route=st.sampled_from(("r8", "a10")), named=st.sampled_from(TARGETS))
    def rebalance(self, route: str, named: str) -> None:
        """R8 ``rebalance-recommendation`` or A10 (V1, V2, V5, §3.7.1)."""
        self.signal(Signal(route, SignalKind.REBALANCE, self.target(named)))

    @rule(route=st.sampled_from(("r8", "r9")), named=st.sampled_from(TARGETS), offset=st.sampled_from(DEADLINES))
    def termination_notice(self, route: str, named: str, offset: int | None) -> None:
        """R8 ``termination-notice`` or R9 alone (V3, V4, §3.7.2, EP-7 for standbys and kept-old instances)."""
        self.signal(Signal(route, SignalKind.TERMINATION, self.target(named), self.deadline(offset)))

    @precondition(lambda self: self.agent.primary_instance_id is not None)
    @rule(offset=st.sampled_from(DEADLINES))
    def agent_v4_notice(self, offset: int | None) -> None:
        """Agent v4 on a notice: R8 then R9 with the same notice; R9 succeeds iff R8 promoted, with its result."""
        notice = Signal("r8", SignalKind.TERMINATION, self.agent.primary_instance_id, self.deadline(offset))
        first = self.signal(notice)
        second = self.signal(Signal("r9", SignalKind.TERMINATION, notice.instance_id, notice.termination_time))
        if first.action is Action.REPLICA_PROMOTED:
            assert second.action is Action.REPLICA_PROMOTED  # EP-4 replay, W36
        assert second.episode is first.episode

    @precondition(lambda self: self.last is not None)
    @rule()
    def retry_signal(self) -> None:
        """The same call again at once (W33, W38): the same replica, the same failover, never a second promotion."""
        assert self.last is not None
        signal, first = self.last
        promoted = sum(r.status is ReplicaStatus.PROMOTED for r in self.world.replicas(self.agent))
        again = self.signal(signal)
        assert again.action is first.action or first.action is Action.NONE
        if first.action is Action.NONE:
            assert again.action is Action.NONE  # EP-7: still not on the primary
            return
        assert not again.created
        assert (again.episode, again.command_id) == (first.episode, first.command_id)
        assert again.replica is first.replica
        assert sum(r.status is ReplicaStatus.PROMOTED for r in self.world.replicas(self.agent)) == promoted

    @precondition(lambda self: any(e.state is EpisodeState.FAILED_OVER for e in self.world.episodes(self.agent)))
    @rule(index=st.integers(0, 3))
    def notice_after_failover(self, index: int) -> None:
        """R9 naming an instance that was failed over, later (EP-4 replay): success, and the first result (W38)."""
        done = [e for e in self.world.episodes(self.agent) if e.state is EpisodeState.FAILED_OVER]
        episode = done[index % len(done)]
        answer = self.signal(Signal("r9", SignalKind.TERMINATION, episode.instance_id))
        assert answer.action is Action.REPLICA_PROMOTED
        assert answer.episode is episode

    # --- invariants -----------------------------------------------------------------------------------------------

    @invariant()
    def exactly_one_primary(self) -> None:
        if self.agent_id:
            checks.check_one_primary(self.world, self.agent)

    @invariant()
    def promoted_replicas_had_real_instances(self) -> None:
        if self.agent_id:
            checks.check_promoted_had_real_instance(self.world, self.agent)

    @invariant()
    def standbys_never_share_the_primary_pool(self) -> None:
        if self.agent_id:
            checks.check_pools(self.world, self.agent)

    @invariant()
    def one_live_replica_per_episode(self) -> None:
        if self.agent_id:
            checks.check_episodes(self.world, self.agent)

    @invariant()
    def standby_instances_match_live_replicas(self) -> None:
        if self.agent_id:
            checks.check_standbys(self.world, self.agent)

    @invariant()
    def counters_equal_live_replicas(self) -> None:
        if self.agent_id:
            self.loop.run_until_complete(checks.check_counters(self.world, self.agent))

    @invariant()
    def one_open_ledger_entry_per_instance(self) -> None:
        checks.check_ledger(self.world)


ReplicaStateMachine.TestCase.settings = settings(stateful_step_count=30, deadline=None)
TestReplicaStateMachine = ReplicaStateMachine.TestCase
