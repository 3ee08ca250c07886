"""The catboost engine with stub predictors: DP-1/DP-3 per-component fallback, DP-22 chain and pointer cache,
the executor budget (a stub that blocks on an event, no timed assertion) and the version on every decision.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from spotopt.adapters.ml.catboost_engine import CatBoostDecisionEngine
from spotopt.adapters.ml.catboost_estimator import CatBoostEstimator
from spotopt.adapters.ml.catboost_models import Predictor
from spotopt.adapters.ml.executor import InferenceExecutor
from spotopt.adapters.ml.live_models import CachedModelRegistry, LiveModelSource
from spotopt.application.decisions.decide_for_agent import DecideForAgent, DecideForAgentCommand
from spotopt.application.decisions.decision_inputs import DecisionInputs, rules_decision
from spotopt.domain.decisions.decision import Action
from spotopt.domain.decisions.estimation import RuleEstimator
from spotopt.domain.decisions.features import FeatureRow
from spotopt.domain.decisions.inputs import DecisionInput, Trigger
from spotopt.domain.decisions.models import ModelManifest, ModelStatus
from spotopt.domain.decisions.policy import EstimatorBudgets, PolicyDocument
from tests.factories.agents import make_instance
from tests.factories.decisions import (
    CHEAP,
    CLIENT,
    CURRENT,
    NOW,
    OTHER,
    PRIMARY,
    make_agent,
    make_bucket,
    seed_market,
    wiring,
)
from tests.fakes.decisions import StubPredictor
from tests.fakes.uow import InMemoryUnitOfWork
from tests.unit.decisions.ml_helpers import CATBOOST, PRICE, RISK, ModelWorld, live_pair

D = Decimal


@pytest.fixture
def executor() -> Iterator[InferenceExecutor]:
    pool = InferenceExecutor(workers=2)
    yield pool
    pool.close()


async def decision_input(uow: InMemoryUnitOfWork, *, features: bool = True) -> DecisionInput:
    agent = make_agent()
    await uow.agents.add(agent)
    await seed_market(uow)
    inputs = DecisionInputs(uow)
    return await inputs.for_agent(agent, trigger=Trigger.DECIDE_REQUEST, now=NOW, features=features)


async def test_dp1_a_rules_policy_is_answered_exactly_like_the_rule_engine(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    world = ModelWorld()
    risk_model, _ = live_pair(world)
    inp = await decision_input(uow)
    policy = PolicyDocument()
    assert await world.engine(executor).decide(inp, policy, NOW) == rules_decision(inp, policy, NOW)
    assert risk_model.calls == []


async def test_live_models_score_every_pool_and_the_decision_records_their_versions(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    world = ModelWorld()
    risk_model, price_model = live_pair(world, risk=0.12)
    inp = await decision_input(uow)
    decision = await world.engine(executor).decide(inp, CATBOOST, NOW)
    assert decision.risk_model_version == "interruption_risk-v1"
    assert decision.price_model_version == "price_forecast-v1"
    assert not decision.fallback_used
    assert {c.risk for c in decision.candidates} == {D("0.120000")}
    # One batch per component, rows in the order of the input pools, built from the same feature frame.
    (rows,) = risk_model.calls
    assert [r["az"] for r in rows] == [p.az for p in inp.pools]
    assert rows == price_model.calls[0]
    assert {r["spot_price"] for r in rows} == {0.0131, 0.01, 0.0125}


async def test_serving_forecast_is_the_current_price_times_exp_y(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    """§6.9: forecast = price × exp(ŷ). The model expects the cheap pool to double, so the agent stays."""
    world = ModelWorld()

    def log_ratio(row: FeatureRow) -> float:
        return math.log(2) if row["az"] == "us-east-1b" else 0.0

    world.add(StubPredictor(RISK, "interruption_risk-v3", 0.05), 3, ModelStatus.LIVE)
    world.add(StubPredictor(PRICE, "price_forecast-v2", scores=log_ratio), 2, ModelStatus.LIVE)
    inp = await decision_input(uow)
    decision = await world.engine(executor).decide(inp, CATBOOST, NOW)
    forecasts = {c.pool_id: c.forecast_price for c in decision.candidates}
    assert forecasts[CHEAP] == D("0.020000")
    assert forecasts[OTHER] == D("0.012500")
    rules = rules_decision(inp, PolicyDocument(), NOW)
    assert rules.action is Action.SWITCH_POOL
    assert rules.target_pool_id == CHEAP
    assert decision.action is Action.STAY


async def test_dp3_without_any_model_the_rule_estimator_serves_and_says_so(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    inp = await decision_input(uow)
    decision = await ModelWorld().engine(executor).decide(inp, CATBOOST, NOW)
    assert decision.fallback_used
    assert decision.risk_model_version == "rules-p7"
    assert decision.price_model_version == "rules-p7"
    expected = rules_decision(inp, CATBOOST, NOW, fallback=True)
    assert (decision.action, decision.target_pool_id, decision.risk) == (
        expected.action,
        expected.target_pool_id,
        expected.risk,
    )


async def test_dp22_a_corrupt_live_artefact_falls_to_the_fallback_version_then_to_rules(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    world = ModelWorld()
    live = world.add(StubPredictor(RISK, "interruption_risk-v2", 0.2), 2, ModelStatus.LIVE)
    fallback = world.add(StubPredictor(RISK, "interruption_risk-v1", 0.1), 1, ModelStatus.FALLBACK)
    world.add(StubPredictor(PRICE, "price_forecast-v1", 0.0), 1, ModelStatus.LIVE)
    inp = await decision_input(uow)
    world.artifacts.corrupt(live.content_hash)
    decision = await world.engine(executor).decide(inp, CATBOOST, NOW)
    assert decision.risk_model_version == "interruption_risk-v1"
    assert not decision.fallback_used

    del world.artifacts.items[fallback.content_hash]
    decision = await world.engine(executor).decide(inp, CATBOOST, NOW)
    assert decision.risk_model_version == "rules-p7"
    assert decision.price_model_version == "price_forecast-v1"
    assert decision.fallback_used


async def test_dp3_a_model_over_budget_falls_back_for_that_component_only(uow: InMemoryUnitOfWork) -> None:
    gate = threading.Event()
    world = ModelWorld()
    world.add(StubPredictor(RISK, "interruption_risk-v1", 0.1, gate=gate), 1, ModelStatus.LIVE)
    world.add(StubPredictor(PRICE, "price_forecast-v1", 0.0), 1, ModelStatus.LIVE)
    policy = PolicyDocument(
        engine_kind=CATBOOST.engine_kind, policy_version="p7", estimator_budgets_ms=EstimatorBudgets(decision=20)
    )
    inp = await decision_input(uow)
    executor = InferenceExecutor(workers=2)
    try:
        decision = await world.engine(executor).decide(inp, policy, NOW)
    finally:
        gate.set()
        executor.close()
    assert decision.risk_model_version == "rules-p7"
    assert decision.price_model_version == "price_forecast-v1"
    assert decision.fallback_used


async def test_dp3_a_saturated_executor_never_makes_a_decision_wait(uow: InMemoryUnitOfWork) -> None:
    gate = threading.Event()
    world = ModelWorld()
    risk_model, _ = live_pair(world)
    inp = await decision_input(uow)
    executor = InferenceExecutor(workers=1, queued=0)
    pending = asyncio.ensure_future(executor.run(gate.wait, 60))
    await asyncio.sleep(0)
    try:
        decision = await world.engine(executor).decide(inp, CATBOOST, NOW)
    finally:
        gate.set()
        await pending
        executor.close()
    assert decision.fallback_used
    assert (decision.risk_model_version, decision.price_model_version) == ("rules-p7", "rules-p7")
    assert risk_model.calls == []


@pytest.mark.parametrize(
    "predictor",
    [
        StubPredictor(RISK, "interruption_risk-v1", error=RuntimeError("boom")),
        StubPredictor(RISK, "interruption_risk-v1", math.nan),
        StubPredictor(RISK, "interruption_risk-v1", 1.5),
    ],
    ids=["raises", "nan", "out-of-range"],
)
async def test_dp3_a_failing_or_out_of_range_model_falls_back(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor, predictor: StubPredictor
) -> None:
    world = ModelWorld()
    world.add(predictor, 1, ModelStatus.LIVE)
    inp = await decision_input(uow)
    decision = await world.engine(executor).decide(inp, CATBOOST, NOW)
    assert decision.risk_model_version == "rules-p7"
    assert decision.fallback_used


async def test_dp22_a_new_live_version_is_used_once_the_5_second_pointer_cache_expires(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    world = ModelWorld()
    live_pair(world)
    world.add(StubPredictor(RISK, "interruption_risk-v2", 0.2), 2, ModelStatus.CANDIDATE)
    engine = world.engine(executor)
    inp = await decision_input(uow)
    assert (await engine.decide(inp, CATBOOST, NOW)).risk_model_version == "interruption_risk-v1"
    await world.registry.activate(RISK, 2, NOW)  # another process swaps the pointer
    world.clock.value += 4.9
    assert (await engine.decide(inp, CATBOOST, NOW)).risk_model_version == "interruption_risk-v1"
    world.clock.value += 0.1
    assert (await engine.decide(inp, CATBOOST, NOW)).risk_model_version == "interruption_risk-v2"
    assert world.registry.live_reads == 2
    # Each version was loaded once, however many decisions it made.
    assert sorted(world.loads) == ["interruption_risk-v1", "interruption_risk-v2", "price_forecast-v1"]


async def test_features_read_the_price_history_and_the_primarys_age(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    world = ModelWorld()
    risk_model, _ = live_pair(world)
    uow.buckets.put(make_bucket(CURRENT, D("0.010480"), start=NOW - timedelta(minutes=5) - timedelta(hours=1)))
    inp = await decision_input(uow)
    await world.engine(executor).decide(inp, CATBOOST, NOW)
    rows = {r["az"]: r for r in risk_model.calls[0]}
    assert rows["us-east-1c"]["price_change_1h"] == pytest.approx(0.0131 / 0.01048 - 1)
    assert rows["us-east-1b"]["price_change_1h"] is None
    assert rows["us-east-1c"]["ondemand_price"] == pytest.approx(0.0416)
    # No instance row in the fake store: the age is unknown, and candidate pools score 0.
    assert {r["instance_age_hours"] for r in rows.values()} == {0.0}


async def test_dp3_estimator_fallback_event_at_most_once_per_10_minutes(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    await uow.agents.add(make_agent())
    await seed_market(uow)
    collaborators = wiring(uow, CATBOOST)
    sut = DecideForAgent(engine=ModelWorld().engine(executor), **collaborators)
    command = DecideForAgentCommand(client_id=CLIENT, agent_id="agent-1")
    for minutes in (0, 3, 9):
        collaborators["clock"].current = NOW + timedelta(minutes=minutes)
        assert (await sut.execute(command)).decision.fallback_used
    collaborators["clock"].current = NOW + timedelta(minutes=10, seconds=1)
    await sut.execute(command)
    events = [e for e in uow.store.events if e.type == "estimator_fallback"]
    assert [e.created_at - NOW for e in events] == [timedelta(0), timedelta(minutes=10, seconds=1)]
    assert events[0].severity.value == "error"
    assert events[0].metadata["risk_model_version"] == "rules-p7"


async def test_no_fallback_event_when_the_models_serve_or_the_policy_is_rules(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    await uow.agents.add(make_agent())
    await seed_market(uow)
    world = ModelWorld()
    live_pair(world)
    for policy, engine in ((CATBOOST, world.engine(executor)), (PolicyDocument(), ModelWorld().engine(executor))):
        sut = DecideForAgent(engine=engine, **wiring(uow, policy))
        await sut.execute(DecideForAgentCommand(client_id=CLIENT, agent_id="agent-1"))
    assert [e for e in uow.store.events if e.type == "estimator_fallback"] == []


async def test_instance_age_is_the_primarys_tracked_hours_in_its_own_pool_only(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    world = ModelWorld()
    risk_model, _ = live_pair(world)
    agent = make_agent()
    await uow.instances.add(
        make_instance(
            agent.agent_id, CLIENT, instance_id=PRIMARY, az="us-east-1c", first_seen_at=NOW - timedelta(hours=30)
        )
    )
    inp = await decision_input(uow)
    await world.engine(executor).decide(inp, CATBOOST, NOW)
    ages = {r["az"]: r["instance_age_hours"] for r in risk_model.calls[0]}
    assert ages == {"us-east-1c": 30.0, "us-east-1b": 0.0, "us-east-1a": 0.0}


async def test_dp3_a_slow_first_load_falls_back_then_serves_once_loaded(uow: InMemoryUnitOfWork) -> None:
    world = ModelWorld()
    live_pair(world)
    gate = threading.Event()
    load = world.loader()

    def slow_load(artifact: bytes, manifest: ModelManifest, name: str) -> Predictor:
        gate.wait()
        return load(artifact, manifest, name)

    source = LiveModelSource(CachedModelRegistry(world.registry, clock=world.clock), world.artifacts, slow_load)
    executor = InferenceExecutor()
    engine = CatBoostDecisionEngine(source, executor)
    policy = PolicyDocument(
        engine_kind=CATBOOST.engine_kind, policy_version="p7", estimator_budgets_ms=EstimatorBudgets(decision=20)
    )
    inp = await decision_input(uow)
    try:
        first = await engine.decide(inp, policy, NOW)
        gate.set()
        await source.predictors()  # waits for the load that kept going after the first decision's budget ran out
        second = await engine.decide(inp, policy, NOW)
    finally:
        gate.set()
        executor.close()
    assert (first.risk_model_version, first.fallback_used) == ("rules-p7", True)
    assert (second.risk_model_version, second.fallback_used) == ("interruption_risk-v1", False)
    assert sorted(world.loads) == ["interruption_risk-v1", "price_forecast-v1"]


async def test_the_synchronous_estimator_scores_like_the_engine_for_offline_use(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    """The ``Estimator`` port for replays and reports: same estimates, per-component fallback, no budget."""
    world = ModelWorld()
    risk_model, price_model = live_pair(world, risk=0.2, log_ratio=0.1)
    inp = await decision_input(uow)
    rules = RuleEstimator.for_policy(CATBOOST)
    offline = CatBoostEstimator(rules, {RISK: risk_model, PRICE: price_model}).estimate(inp.pools, NOW)
    assert offline == await world.engine(executor).estimate(inp.pools, CATBOOST, NOW, budget_seconds=1)
    broken = StubPredictor(PRICE, "price_forecast-v9", error=RuntimeError("no"))
    partial = CatBoostEstimator(rules, {RISK: risk_model, PRICE: broken}).estimate(inp.pools, NOW)
    assert {(e.version, e.price_model_version, e.fallback_used) for e in partial.values()} == {
        ("interruption_risk-v1", "rules-p7", True)
    }
