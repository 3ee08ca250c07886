"""Hot swap under load (issue 9, DP-20, DP-22): decisions keep flowing while another process changes the live
version; each decision records the version that made it, and every decision begun 5 s after the swap uses it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from decimal import Decimal

import pytest

from spotopt.adapters.ml.catboost_engine import CatBoostDecisionEngine
from spotopt.adapters.ml.executor import InferenceExecutor
from spotopt.adapters.ml.live_models import CachedModelRegistry, InvalidatingSessions, LiveModelSource
from spotopt.application.decisions.decision_inputs import DecisionInputs
from spotopt.application.ports.decisions import SessionFile
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.decisions.models import ModelOrigin, ModelStatus
from spotopt.domain.decisions.policy import EstimatorBudgets
from tests.factories.decisions import NOW, make_agent, seed_market
from tests.fakes.decisions import StubPredictor
from tests.fakes.uow import InMemoryUnitOfWork
from tests.unit.decisions.ml_helpers import CATBOOST, PRICE, RISK, ModelWorld, artifact_for, manifest_for

SCORES = {"interruption_risk-v1": Decimal("0.11"), "interruption_risk-v2": Decimal("0.22")}
WORKERS, ROUNDS, SWAP_AT = 3, 40, 10  # 3 decisions x 2 models in flight fit the executor's 8 slots
# A generous budget: a shared CI machine must not turn a slow thread into a (legitimate) DP-3 fallback here.
POLICY = dataclasses.replace(CATBOOST, estimator_budgets_ms=EstimatorBudgets(decision=5000, emergency=50))


@pytest.fixture
def executor() -> Iterator[InferenceExecutor]:
    pool = InferenceExecutor(workers=2)
    yield pool
    pool.close()


async def test_hot_swap_under_load_each_decision_records_the_version_that_made_it(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    world = ModelWorld()
    world.add(StubPredictor(RISK, "interruption_risk-v1", 0.11), 1, ModelStatus.LIVE)
    world.add(StubPredictor(PRICE, "price_forecast-v1", 0.0), 1, ModelStatus.LIVE)
    world.add(StubPredictor(RISK, "interruption_risk-v2", 0.22), 2, ModelStatus.CANDIDATE)
    engine = world.engine(executor)
    agent = make_agent()
    await uow.agents.add(agent)
    await seed_market(uow)
    inp = await DecisionInputs(uow).for_agent(agent, trigger=Trigger.DECIDE_REQUEST, now=NOW, features=True)
    made: list[tuple[float, Decision]] = []
    swapped_at: list[float] = []

    async def decide_repeatedly() -> None:
        for _ in range(ROUNDS):
            started = world.clock.value
            made.append((started, await engine.decide(inp, POLICY, NOW)))
            await asyncio.sleep(0)

    async def operator() -> None:
        while len(made) < SWAP_AT:  # noqa: ASYNC110 - yields to the deciding tasks until enough decisions exist
            await asyncio.sleep(0)
        await world.registry.activate(RISK, 2, NOW)  # another process: this one's cache is not told
        swapped_at.append(world.clock.value)
        while len(made) < WORKERS * ROUNDS:
            world.clock.value += 0.5  # time passes while decisions flow
            await asyncio.sleep(0)

    await asyncio.gather(operator(), *(decide_repeatedly() for _ in range(WORKERS)))

    assert len(made) == WORKERS * ROUNDS  # no decision failed or was dropped during the swap
    (swap,) = swapped_at
    for started, decision in made:
        version = decision.risk_model_version
        assert version in SCORES
        assert not decision.fallback_used
        # The version recorded is the one whose scores the decision carries.
        assert {c.risk for c in decision.candidates if c.risk is not None} == {SCORES[version]}
        if started < swap:
            assert version == "interruption_risk-v1"
        if started >= swap + 5:
            assert version == "interruption_risk-v2"
    assert {d.risk_model_version for _, d in made} == set(SCORES)
    assert world.loads.count("interruption_risk-v2") == 1  # loaded once, off the other decisions' path


async def test_dp22_an_activation_through_this_process_is_used_by_its_next_decision(
    uow: InMemoryUnitOfWork, executor: InferenceExecutor
) -> None:
    """M15 in the serving process: the swap clears the pointer cache, no wait for the 5 s."""
    world = ModelWorld()
    world.add(StubPredictor(PRICE, "price_forecast-v1", 0.0), 1, ModelStatus.LIVE)
    cache = CachedModelRegistry(world.registry, clock=world.clock)
    source = LiveModelSource(cache, world.artifacts, loader=world.loader(), clock=world.clock)
    sessions = InvalidatingSessions(world.registry, cache)
    engine = CatBoostDecisionEngine(source, executor)
    agent = make_agent()
    await uow.agents.add(agent)
    await seed_market(uow)
    inp = await DecisionInputs(uow).for_agent(agent, trigger=Trigger.DECIDE_REQUEST, now=NOW, features=True)
    assert (await engine.decide(inp, CATBOOST, NOW)).risk_model_version == "rules-p7"
    manifest = manifest_for(RISK, 3)
    world.artifacts.items[manifest.content_hash] = artifact_for(RISK, 3)
    world.predictors[manifest.content_hash] = StubPredictor(RISK, "interruption_risk-v1", 0.11)
    session, _ = await sessions.add_session(
        label="s3", origin=ModelOrigin.UPLOADED, notes="",
        files=[SessionFile(manifest=manifest, file_name="r.cbm", size_bytes=3)], now=NOW,
    )  # fmt: skip
    await sessions.activate_session(session.session_id, NOW)
    decision = await engine.decide(inp, CATBOOST, NOW)
    assert decision.risk_model_version == "interruption_risk-v1"
