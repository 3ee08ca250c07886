"""The auto-switch evaluator (§7.2) with whichever engine the policy names: live models decide and are recorded
on the command's decision (DP-15); without them the rule estimator stands in with an ``estimator_fallback`` event.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spotopt.adapters.ml.executor import InferenceExecutor
from spotopt.application.decisions.evaluate_auto_switch import EvaluateAutoSwitch, EvaluateAutoSwitchCommand, Outcome
from spotopt.domain.shared.ids import AgentId
from tests.factories.decisions import CHEAP, CLIENT, NOW, make_agent, seed_market, wiring
from tests.fakes.uow import InMemoryUnitOfWork
from tests.unit.decisions.ml_helpers import CATBOOST, ModelWorld, live_pair


@pytest.fixture
def executor() -> Iterator[InferenceExecutor]:
    pool = InferenceExecutor()
    yield pool
    pool.close()


async def evaluate(uow: InMemoryUnitOfWork, world: ModelWorld, executor: InferenceExecutor) -> Outcome:
    sut = EvaluateAutoSwitch(engine=world.engine(executor), **wiring(uow, CATBOOST))
    result = await sut.execute(EvaluateAutoSwitchCommand(client_id=CLIENT, agent_id=AgentId("agent-1"), tick=NOW))
    return result.outcome


async def test_a_command_from_a_model_decision_references_a_decision_with_the_model_versions(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    await uow.agents.add(make_agent())
    await seed_market(uow)
    world = ModelWorld()
    live_pair(world, risk=0.05)
    assert await evaluate(uow, world, executor) is Outcome.COMMAND_CREATED
    (command,) = uow.store.commands.values()
    decision = uow.store.decisions[command.decision_id or ""]
    assert command.target_pool_id == CHEAP
    assert (decision.risk_model_version, decision.price_model_version) == ("interruption_risk-v1", "price_forecast-v1")
    assert decision.command_id == command.command_id
    assert not decision.fallback_used
    assert [e for e in uow.store.events if e.type == "estimator_fallback"] == []


async def test_without_models_the_evaluator_decides_with_rules_and_records_the_fallback(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    await uow.agents.add(make_agent())
    await seed_market(uow)
    assert await evaluate(uow, ModelWorld(), executor) is Outcome.COMMAND_CREATED
    (decision,) = uow.store.decisions.values()
    assert decision.fallback_used
    assert decision.risk_model_version == "rules-p7"
    (event,) = [e for e in uow.store.events if e.type == "estimator_fallback"]
    assert event.agent_id == "agent-1"
    assert uow.commits == 1
