"""Decision latency of the engines (DP-1, DP-3): one agent, and a batch of 10,000 agents, with CatBoost and rules.

Measures the engine alone (`DecisionEngine.decide` on a prepared `DecisionInput`), not the database reads around
it. Each agent has 6 candidate pools (t3.medium in 6 zones) with a 24 h PR-35 price history, as the evaluator
builds them. The CatBoost models are trained first with the policy's default parameters (300 trees of depth 4)
on the public traces (risk) and on synthetic price samples (price), stored in a temporary model store and made
live through the file registry: the same load path as in production.

- one agent: `--repeat` sequential decisions after a warm-up; p50 / p99 per decision;
- N agents (10,000 by default), sequential: what the evaluator does (one agent per transaction); total and per decision;
- N agents, `--concurrency` in flight: the bounded executor under pressure (decisions that found every
  inference slot busy fall back to rules and are counted);
- raw batch scoring: one `predict` call over all N × 6 pool rows (the ceiling of the models themselves).

    .venv/bin/python bench/ml/decision_latency.py [--agents 10000] [--repeat 2000] [--concurrency 32]

Prints markdown; record it in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from spotopt.adapters.decision_engine import RulesDecisionEngine
from spotopt.adapters.ml.catboost_engine import CatBoostDecisionEngine
from spotopt.adapters.ml.catboost_estimator import ordered_rows
from spotopt.adapters.ml.catboost_models import CatBoostPredictor
from spotopt.adapters.ml.catboost_trainer import CatBoostModelTrainer
from spotopt.adapters.ml.executor import InferenceExecutor
from spotopt.adapters.ml.file_registry import FileModelRegistry
from spotopt.adapters.ml.live_models import CachedModelRegistry, LiveModelSource
from spotopt.adapters.ml.model_store import FileModelStore
from spotopt.adapters.ml.traces import TraceTrainingData
from spotopt.application.ports.decisions import DecisionEngine
from spotopt.domain.agents.agent import Thresholds
from spotopt.domain.decisions.estimation import PoolHistory, PoolSnapshot, PoolStats
from spotopt.domain.decisions.features import feature_rows
from spotopt.domain.decisions.inputs import DecisionInput, SwitchCounters
from spotopt.domain.decisions.models import ModelKind, TrainingWindow
from spotopt.domain.decisions.policy import EngineKind, PolicyDocument
from spotopt.domain.decisions.training import Sample
from spotopt.domain.pricing.buckets import BUCKET_WIDTH, bucket_start
from spotopt.domain.shared.ids import AgentId
from spotopt.domain.shared.pools import Mode

NOW = datetime(2026, 11, 26, 10, 7, tzinfo=UTC)
AZS = ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f")
CATBOOST = PolicyDocument(engine_kind=EngineKind.CATBOOST, policy_version="bench")
RULES = PolicyDocument(policy_version="bench")


def pool(az: str, rnd: random.Random, age: float | None) -> PoolSnapshot:
    base = rnd.uniform(0.010, 0.016)
    newest = bucket_start(NOW)
    measured = {newest - k * BUCKET_WIDTH: Decimal(f"{base * rnd.uniform(0.97, 1.03):.6f}") for k in range(72)}
    measured[newest - timedelta(hours=24)] = Decimal(f"{base:.6f}")
    t24 = rnd.choice([0, 0, 0, 0, 1])
    return PoolSnapshot(
        pool_id=f"t3.medium.{az}", instance_type="t3.medium", region="us-east-1", az=az, available=True,
        price=measured[newest], price_observed_at=newest, price_confidence=Decimal("1.00"),
        stats=PoolStats(t24=t24, t7=t24 + rnd.randint(0, 2), t30=t24 + 3, exposure_hours_7d=Decimal(150)),
        history=PoolHistory(measured=measured, ondemand_price=Decimal("0.0416"), instance_age_hours=age),
    )  # fmt: skip


def agent_input(n: int, rnd: random.Random) -> DecisionInput:
    current = AZS[n % len(AZS)]
    pools = tuple(pool(az, rnd, 30.0 if az == current else None) for az in AZS)
    return DecisionInput(
        agent_id=AgentId(f"agent-{n}"), thresholds=Thresholds(), terminate_wait_seconds=300, mode=Mode.SPOT,
        pool_id=f"t3.medium.{current}", instance_type="t3.medium", region="us-east-1", az=current,
        placement_since=NOW - timedelta(hours=10), baseline=Decimal("0.0416"), pools=pools,
        counters=SwitchCounters(),
    )  # fmt: skip


def price_samples(rnd: random.Random, n: int = 6000) -> list[Sample]:
    out = []
    for k in range(n):
        p = pool(AZS[k % len(AZS)], rnd, None)
        row = feature_rows([p], NOW)[p.pool_id]
        out.append(Sample(pool_id=p.pool_id, at=NOW - timedelta(minutes=5 * k), features=row, label=rnd.gauss(0, 0.02)))
    return out


async def live_engine(root: Path, executor: InferenceExecutor, rnd: random.Random) -> CatBoostDecisionEngine:
    store, registry = FileModelStore(root), FileModelRegistry(root)
    trainer = CatBoostModelTrainer(store)
    traces = TraceTrainingData()
    risk = traces.risk_samples() if traces.available() else None
    window = TrainingWindow(NOW.date(), NOW.date())
    params = CATBOOST.catboost_training
    for kind, samples in ((ModelKind.INTERRUPTION_RISK, risk), (ModelKind.PRICE_FORECAST, price_samples(rnd))):
        if samples is None:
            raise SystemExit("skipped: the public spot traces (../shared/data) are needed for the risk model")
        trained = trainer.fit_sync(kind, samples, params, label=f"bench-{kind.value}", window=window)
        await store.put(trained.artifact, trained.manifest)
        version = await registry.register_candidate(trained.manifest, NOW)
        await registry.activate(kind, version.version, NOW)
    return CatBoostDecisionEngine(LiveModelSource(CachedModelRegistry(registry), store), executor)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


async def one_agent(engine: DecisionEngine, policy: PolicyDocument, inp: DecisionInput, repeat: int) -> list[float]:
    for _ in range(50):
        await engine.decide(inp, policy, NOW)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        await engine.decide(inp, policy, NOW)
        timings.append(time.perf_counter() - started)
    return timings


async def batch(
    engine: DecisionEngine, policy: PolicyDocument, inputs: list[DecisionInput], concurrency: int
) -> tuple[float, int]:
    limit = asyncio.Semaphore(concurrency)
    fallbacks = 0

    async def run(inp: DecisionInput) -> None:
        nonlocal fallbacks
        async with limit:
            fallbacks += (await engine.decide(inp, policy, NOW)).fallback_used

    started = time.perf_counter()
    await asyncio.gather(*(run(inp) for inp in inputs))
    return time.perf_counter() - started, fallbacks


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    rnd = random.Random(7)
    executor = InferenceExecutor()
    with tempfile.TemporaryDirectory() as tmp:
        catboost = await live_engine(Path(tmp), executor, rnd)
        inputs = [agent_input(n, rnd) for n in range(args.agents)]
        engines: list[tuple[str, DecisionEngine, PolicyDocument]] = [
            ("catboost", catboost, CATBOOST),
            ("rules", RulesDecisionEngine(), RULES),
        ]
        print(f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, Python {platform.python_version()}, "
              f"{args.agents} agents × 6 pools, concurrency {args.concurrency}, "
              f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print()
        print(f"| engine | one agent p50 ms | p99 ms | {args.agents:,} sequential s (ms/decision) | fallbacks | "
              f"{args.agents:,} at {args.concurrency} in flight s | fallbacks |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        for name, engine, policy in engines:
            single = sorted(await one_agent(engine, policy, inputs[0], args.repeat))
            sequential, seq_fallbacks = await batch(engine, policy, inputs, 1)
            parallel, fallbacks = await batch(engine, policy, inputs, args.concurrency)
            counted = (seq_fallbacks, fallbacks) if name == "catboost" else ("–", "–")
            print(f"| {name} | {ms(statistics.median(single))} | {ms(single[int(0.99 * len(single))])} | "
                  f"{sequential:.1f} ({ms(sequential / len(inputs))}) | {counted[0]} | {parallel:.1f} | "
                  f"{counted[1]} |")  # fmt: skip
        source = LiveModelSource(CachedModelRegistry(FileModelRegistry(Path(tmp))), FileModelStore(Path(tmp)))
        predictors = await source.predictors()
        rows = [row for inp in inputs for row in ordered_rows(inp.pools, NOW)]
        print()
        for kind, predictor in predictors.items():
            assert isinstance(predictor, CatBoostPredictor)
            started = time.perf_counter()
            predictor.predict(rows)
            elapsed = time.perf_counter() - started
            print(f"- raw {kind.value} scoring of {len(rows):,} rows in one call: {elapsed:.2f} s")
    executor.close()


if __name__ == "__main__":
    asyncio.run(main())
