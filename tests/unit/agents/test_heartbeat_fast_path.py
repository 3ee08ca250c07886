"""A2 fast path (issue 10): a heartbeat that only refreshes liveness ≡ the full H-1 … H-7 rules (hypothesis).

Two identical worlds get the same randomized agent state and heartbeat: one runs ``RecordHeartbeat`` with the fast
path (the domain predicate over the store, as the SQL adapter evaluates it in its WHERE clause), the other with a
refresher that never applies, so the full rules decide. Agent, instances, events and commits must agree.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.application.agents.record_heartbeat import RecordHeartbeat
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.liveness_refresh import LivenessRefresh
from spotopt.domain.agents.values import InstanceRole, Lifecycle, Liveness
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_heartbeat
from tests.factories.common import NEW, OLD
from tests.factories.world import AgentWorld
from tests.fakes.liveness import InMemoryLivenessRefresher
from tests.fakes.uow import InScope


class NeverRefreshes:
    async def refresh(self, _refresh: LivenessRefresh) -> bool:
        return False


def _mostly(usual: Any, others: list[Any]) -> st.SearchStrategy[Any]:
    """The agent v4 usual case most of the time, so the boundary cases around it are all reached."""
    return st.one_of(st.just(usual), st.just(usual), st.sampled_from(others))


STATE = st.fixed_dictionaries(
    {
        "liveness": st.sampled_from(list(Liveness)),
        "lifecycle": _mostly(Lifecycle.ACTIVE, list(Lifecycle)),
        "heartbeat_offset_s": st.one_of(st.none(), st.integers(-400, 60)),
        "role": _mostly(InstanceRole.PRIMARY, list(InstanceRole)),
        "owned": _mostly(True, [False]),
        "named": _mostly(OLD, [NEW, None, "not-an-instance"]),
        "status": st.sampled_from([None, "online", "disabled", "switching", "offline", "error"]),
        "mode": _mostly(None, [*Mode]),
        "instance_type": _mostly(None, ["unknown", "t3.medium", "T3.MEDIUM", "m5.large", " t3.medium"]),
        "az": _mostly(None, ["", "us-east-1a", "us-east-1b", "US-EAST-1A", "us-east-1a "]),
    }
)


def _snapshot(world: AgentWorld, agent: Agent) -> dict[str, Any]:
    """The stored state with the generated ids (random in each world) replaced by names."""
    store = world.uow.store
    names = {agent.agent_id: "AGENT", agent.client_id: "CLIENT"}
    snapshot = {
        "agent": dataclasses.asdict(store.agents[agent.agent_id]),
        "instances": sorted(
            (dataclasses.asdict(i) for i in store.instances.values()), key=lambda d: str(d["instance_id"])
        ),
        "events": [(e.type, e.instance_id) for e in store.events],
        "commits": world.uow.commits,
    }
    renamed: dict[str, Any] = _renamed(snapshot, names)
    return renamed


def _renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _renamed(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_renamed(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


async def _run(state: dict[str, Any], *, fast: bool) -> tuple[dict[str, Any], str | None, int]:
    world = AgentWorld()
    agent = await world.registered()
    now = world.advance(seconds=30)
    primary = world.instance(agent, OLD)
    primary.role = state["role"]
    if not state["owned"]:
        primary.agent_id = "someone-else"  # type: ignore[assignment]
    agent.liveness = state["liveness"]
    agent.lifecycle = state["lifecycle"]
    offset = state["heartbeat_offset_s"]
    agent.last_heartbeat_at = None if offset is None else now + timedelta(seconds=offset)
    await world.uow.commit_setup()
    refresher = InMemoryLivenessRefresher(world.uow)
    use_case = RecordHeartbeat(
        world.uow, world.clock, world.placement, world.timings, refresher if fast else NeverRefreshes()
    )
    command = make_heartbeat(
        agent,
        instance_id=state["named"],
        status=state["status"],
        mode=state["mode"],
        instance_type=state["instance_type"],
        az=state["az"],
    )
    error: str | None = None
    try:
        await InScope(use_case.execute, world.uow).execute(command)
    except Exception as exc:  # the same failure on both paths (H-7 not found, H-6 invalid status)
        error = f"{type(exc).__name__}: {exc}"
    return _snapshot(world, agent), error, refresher.applied


@settings(max_examples=300, deadline=None)
@given(STATE)
def test_a2_fast_path_is_equivalent_to_the_full_heartbeat_rules(state: dict[str, Any]) -> None:
    """H-2 (liveness refresh), AG-8, H-7: same stored state, events and errors with and without the fast path."""
    fast, fast_error, _ = asyncio.run(_run(state, fast=True))
    full, full_error, _ = asyncio.run(_run(state, fast=False))
    assert fast_error == full_error
    assert fast == full


def test_a2_the_common_primary_heartbeat_takes_the_fast_path() -> None:
    """The predicate is not vacuous: agent v4's usual heartbeat from the online primary applies it."""
    state = {
        "liveness": Liveness.ONLINE,
        "lifecycle": Lifecycle.ACTIVE,
        "heartbeat_offset_s": -30,
        "role": InstanceRole.PRIMARY,
        "owned": True,
        "named": OLD,
        "status": "online",
        "mode": None,
        "instance_type": None,
        "az": None,
    }
    fast, error, applied = asyncio.run(_run(state, fast=True))
    full, _, _ = asyncio.run(_run(state, fast=False))
    assert (error, applied) == (None, 1)
    assert fast["agent"]["last_heartbeat_at"] == full["agent"]["last_heartbeat_at"] is not None
