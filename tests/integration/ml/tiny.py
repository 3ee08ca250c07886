"""Tiny real CatBoost models trained inside the tests (a few hundred rows, 2 threads, well under a second)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from spotopt.adapters.ml.catboost_trainer import CatBoostModelTrainer
from spotopt.adapters.ml.model_store import FileModelStore
from spotopt.application.ports.decisions import TrainedModel
from spotopt.domain.decisions.estimation import PoolHistory, PoolSnapshot, PoolStats
from spotopt.domain.decisions.features import feature_rows
from spotopt.domain.decisions.models import ModelKind, TrainingWindow
from spotopt.domain.decisions.policy import CatBoostTraining
from spotopt.domain.decisions.training import Sample

T0 = datetime(2026, 5, 1, tzinfo=UTC)
PARAMS = CatBoostTraining(iterations=30, depth=3, seed=11, thread_count=2)
AZS = ("us-east-1a", "us-east-1b", "us-east-1c")


def synthetic_samples(kind: ModelKind, n: int, *, seed: int = 3, start: datetime = T0) -> list[Sample]:
    """Rows whose label depends on the fleet notices (risk) or the spot/on-demand ratio (price)."""
    rnd = random.Random(seed)
    out = []
    for k in range(n):
        at = start + timedelta(minutes=30 * k)
        t24 = rnd.choice([0, 0, 0, 1, 2])
        price = Decimal(str(round(rnd.uniform(0.01, 0.03), 4)))
        az = AZS[k % 3]
        pool = PoolSnapshot(
            f"t3.medium.{az}",
            "t3.medium",
            "us-east-1",
            az,
            True,
            stats=PoolStats(t24=t24, t7=t24 + rnd.randint(0, 2), t30=t24 + 3),
            history=PoolHistory(
                measured={at.replace(second=0, microsecond=0, minute=at.minute - at.minute % 5): price},
                ondemand_price=Decimal("0.0416"),
                instance_age_hours=rnd.uniform(0, 48),
            ),
        )
        row = feature_rows([pool], at)[pool.pool_id]
        if kind is ModelKind.INTERRUPTION_RISK:
            label = 1.0 if rnd.random() < (0.7 if t24 else 0.08) else 0.0
        else:
            label = 0.5 * (float(price) / 0.0416 - 0.5) + rnd.gauss(0, 0.01)
        out.append(Sample(pool_id=pool.pool_id, at=at, features=row, label=label))
    return out


def train_tiny(store_dir: Path, kind: ModelKind = ModelKind.INTERRUPTION_RISK, n: int = 400) -> TrainedModel:
    trainer = CatBoostModelTrainer(FileModelStore(store_dir))
    window = TrainingWindow(T0.date(), T0.date())
    return trainer.fit_sync(kind, synthetic_samples(kind, n), PARAMS, label=f"tiny-{kind.value}", window=window)
