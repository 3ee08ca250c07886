"""Random interleavings of one agent's protocol calls over the use cases (AG-3, IN-2, IN-8, CM-2, CM-3, W19).

Each example is a sequence of steps an agent fleet can produce: polls, acknowledgements (success or failure,
repeats, early ones), new switch commands superseding pending ones, registrations of known, target and unknown
instances, heartbeats (named, unnamed, shutdowns), switch reports and the clock moving on. After every step:
exactly one primary (AG-3, IN-2), at most one switch pending or delivered (CM-2), every non-terminated instance
with exactly one open ledger entry (IN-8), and no acknowledged command handed out again (W19).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.domain.agents.agent import Agent
from spotopt.domain.commands.command import MAX_DELIVERIES, AgentCommand
from spotopt.domain.commands.queue import LIVE_COMMAND
from spotopt.domain.commands.switch import SwitchTiming
from spotopt.domain.commands.switch_planning import make_switch_command, plan_switch
from spotopt.domain.commands.values import CommandOrigin, CommandStatus, CommandType
from spotopt.domain.shared.errors import RuleConflictError
from spotopt.domain.shared.ids import InstanceId
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_facts, make_heartbeat, make_register
from tests.factories.commands import make_switch_report
from tests.factories.world import AgentWorld, assert_ledger_consistent, assert_one_primary, primaries

INSTANCES = [InstanceId(f"i-0{n:016x}") for n in range(1, 6)]
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]

Step = tuple[object, ...]


@dataclass
class Run:
    """One agent and what the steps observed."""

    world: AgentWorld
    agent: Agent
    commands: list[AgentCommand] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    launched: int = 0

    def launch(self) -> InstanceId:
        """A fresh EC2 id: the instance the agent launches for a switch."""
        self.launched += 1
        return InstanceId(f"i-f{self.launched:016x}")

    def target_zone(self, choice: str) -> str:
        """``target`` = the AZ of the latest delivered switch (to make R-5/S-2 matches likely)."""
        if choice != "target":
            return choice
        delivered = [c for c in self.commands if c.status is CommandStatus.DELIVERED and c.target_pool_id]
        return (delivered[-1].target_pool_id or "").rpartition(".")[2] if delivered else ZONES[1]


async def poll(run: Run) -> None:
    handed_out = await run.world.poll_once(run.agent)
    if handed_out is not None:
        assert handed_out.command_id not in run.acked  # W19
        assert handed_out.status is CommandStatus.DELIVERED
        assert handed_out.delivery_count <= MAX_DELIVERIES  # CM-3/K5


async def ack(run: Run, index: int, success: bool) -> None:
    if not run.commands:
        return
    command = run.commands[index % len(run.commands)]
    was = command.status
    try:
        await run.world.acknowledge(run.agent, command, success=success)
    except RuleConflictError:
        assert was is CommandStatus.PENDING  # K11
        return
    if was is CommandStatus.DELIVERED:
        run.acked.add(command.command_id)
    else:
        assert command.status is was  # K10/CM-8: a terminal command never changes


async def seed(run: Run, offset: int, priority: int) -> None:
    """A new switch command to another AZ (K1): supersedes a pending one, refused beside a delivered one (CM-2)."""
    world, agent = run.world, run.agent
    here = ZONES.index(agent.az) if agent.az in ZONES else 0
    zone = ZONES[(here + 1 + offset) % len(ZONES)]
    command = make_switch_command(
        agent,
        origin=CommandOrigin.API,
        target_mode=Mode.SPOT,
        priority=priority,
        target_pool_id=f"t3.medium.{zone}",
        now=world.clock.now(),
    )
    try:
        plan_switch(
            await world.uow.commands.list_for_agent(agent.agent_id),
            command,
            current_mode=agent.mode,
            current_pool_id=agent.pool_id,
        )
    except RuleConflictError:
        return
    await world.uow.commands.add(command)
    await world.uow.commit_setup()
    run.commands.append(command)


async def register(run: Run, index: int, zone: str) -> None:
    az = run.target_zone(zone)
    registration = make_register(run.agent.client_id, instance_id=INSTANCES[index], az=az)
    result = await run.world.register.execute(registration)
    assert result.config.agent == run.agent  # never a second agent


async def heartbeat(run: Run, named: int | None, status: str) -> None:
    instance = None if named is None else INSTANCES[named]
    await run.world.heartbeat.execute(make_heartbeat(run.agent, instance, status=status))


async def report(run: Run, new_index: int, zone: str, from_primary: bool, terminated: bool) -> None:
    agent = run.agent
    old = agent.primary_instance_id if from_primary and agent.primary_instance_id else INSTANCES[0]
    new = INSTANCES[new_index]
    if new == old:
        return
    now = run.world.clock.now()
    claims = SwitchTiming(traffic_switched_at=now, old_terminated_at=now if terminated else None)
    command = make_switch_report(
        agent, old=make_facts(old, agent.az or ZONES[0]), new=make_facts(new, run.target_zone(zone)), timing=claims
    )
    await run.world.report_switch.execute(command)


async def execute(run: Run, order: str, terminated: bool) -> None:
    """The agent runs the latest delivered switch: its new process registers (R-5) and/or the old process reports
    (S-2/S-3), in either order, as agent v4 does with or without a termination wait."""
    delivered = [c for c in run.commands if c.status is CommandStatus.DELIVERED and c.target_pool_id]
    if not delivered or delivered[-1].target_instance_id is None:
        return
    command, new = delivered[-1], run.launch()
    zone = (command.target_pool_id or "").rpartition(".")[2]
    old = command.target_instance_id
    assert old is not None
    now = run.world.clock.now()
    report_body = make_switch_report(
        run.agent,
        old=make_facts(old, ZONES[0]),
        new=make_facts(new, zone),
        timing=SwitchTiming(traffic_switched_at=now, old_terminated_at=now if terminated else None),
    )
    for call in order.split("_"):
        if call == "register":
            await run.world.register.execute(make_register(run.agent.client_id, instance_id=new, az=zone))
        else:
            await run.world.report_switch.execute(report_body)


async def apply(run: Run, step: Step) -> None:
    kind, *args = step
    if kind == "advance":
        run.world.advance(seconds=float(args[0]))  # type: ignore[arg-type]
    elif kind == "poll":
        await poll(run)
    elif kind == "ack":
        await ack(run, *args)  # type: ignore[arg-type]
    elif kind == "seed":
        await seed(run, *args)  # type: ignore[arg-type]
    elif kind == "register":
        await register(run, *args)  # type: ignore[arg-type]
    elif kind == "heartbeat":
        await heartbeat(run, *args)  # type: ignore[arg-type]
    elif kind == "execute":
        await execute(run, *args)  # type: ignore[arg-type]
    else:
        await report(run, *args)  # type: ignore[arg-type]


def check_invariants(run: Run) -> None:
    agent = run.agent
    assert_one_primary(run.world, agent)  # AG-3, IN-2, IN-4
    assert len(primaries(run.world, agent)) == 1  # no T-1 in these steps: always exactly one
    assert_ledger_consistent(run.world)  # IN-8
    live_switches = [
        c for c in run.world.uow.store.commands.values() if c.type is CommandType.SWITCH and c.status in LIVE_COMMAND
    ]
    assert len(live_switches) <= 1  # CM-2


instance_index = st.integers(min_value=0, max_value=len(INSTANCES) - 1)
zone_choice = st.sampled_from(["target", "target", "target", *ZONES, "unknown"])
polls = st.tuples(st.just("poll"))
executions = st.tuples(
    st.just("execute"), st.sampled_from(["register", "report", "register_report", "report_register"]), st.booleans()
)
seeds = st.tuples(st.just("seed"), st.integers(min_value=0, max_value=2), st.sampled_from([10, 25, 50, 75]))
steps = st.one_of(
    st.tuples(st.just("advance"), st.sampled_from([5, 30, 30, 125, 421, 1021, 1900, 7300])),
    polls,
    polls,
    polls,
    seeds,
    seeds,
    executions,
    executions,
    st.tuples(st.just("ack"), st.integers(min_value=-2, max_value=3), st.booleans()),
    st.tuples(st.just("register"), instance_index, zone_choice),
    st.tuples(st.just("heartbeat"), st.none() | instance_index, st.sampled_from(["online", "offline", "error"])),
    st.tuples(st.just("report"), instance_index, zone_choice, st.booleans(), st.booleans()),
)


# Rounds start like the evaluator and the agent do (a switch queued, then polled); the rest is random.
rounds = st.lists(st.tuples(seeds, polls, st.lists(steps, max_size=6)), min_size=1, max_size=6)


@settings(max_examples=150)
@given(plan=rounds)
async def test_property_interleavings_keep_one_primary_one_live_switch_one_open_entry_and_never_redeliver_acked(
    plan: list[tuple[Step, Step, list[Step]]],
) -> None:
    script = [step for seed_step, poll_step, rest in plan for step in (seed_step, poll_step, *rest)]
    world = AgentWorld()
    agent = await world.registered(instance_id=INSTANCES[0])
    run = Run(world, agent)
    check_invariants(run)
    for step in script:
        await apply(run, step)
        check_invariants(run)
