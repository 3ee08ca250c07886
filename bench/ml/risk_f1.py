"""Interruption-risk classifier quality on the public spot traces: F1 at a 60-minute horizon on a held-out later
part of every trace, for the CatBoost model and two baselines.

- Data: the traces as `TraceTrainingData` turns them into fleet observations (§6.9 features computed from data
  available at the sample time only), labels "termination notice within 60 minutes" (same censoring as §6.9).
- Split, per trace folder by time: the first 56 % trains, the next 14 % calibrates (every method's threshold is
  chosen there, by F1), the last 30 % is the test. Samples whose label window crosses a boundary are dropped.
- CatBoost: the production trainer (`CatBoostModelTrainer`) with the policy's default parameters (DP-10),
  writing only into a temporary model store.
- Baselines: the Spot Advisor interruption bucket of the pool's region and type (snapshot 2022-07-23, the last
  one before the traces), positive when the bucket is at least k; "recently preempted", positive when the pool
  had a termination notice within the last X hours.

    .venv/bin/python bench/ml/risk_f1.py [--data-dir ../shared/data] [--with-multi-node-availability]

Prints a markdown table; record it in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from spotopt.adapters.ml.catboost_models import CatBoostPredictor
from spotopt.adapters.ml.catboost_trainer import CatBoostModelTrainer
from spotopt.adapters.ml.model_store import FileModelStore
from spotopt.adapters.ml.traces import (
    ADVISOR_SNAPSHOT,
    DEFAULT_DATA_DIR,
    MULTI_NODE_AVAILABILITY,
    TRACE_FOLDERS,
    TracePool,
    TraceTrainingData,
)
from spotopt.domain.decisions.metrics import pr_auc
from spotopt.domain.decisions.models import ModelKind, TrainingWindow
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.decisions.training import Sample

FIT_END, CAL_END = 0.56, 0.70
THRESHOLDS = [i / 100 for i in range(1, 100)]
RECENT_HOURS = [0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 24, 48, 96, 168, 720]


def confusion(labels: Sequence[bool], predicted: Sequence[bool]) -> tuple[float, float, float]:
    tp = sum(1 for y, p in zip(labels, predicted, strict=True) if y and p)
    fp = sum(1 for y, p in zip(labels, predicted, strict=True) if not y and p)
    fn = sum(1 for y, p in zip(labels, predicted, strict=True) if y and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return f1, precision, recall


def split(samples: Sequence[Sample], pools: Sequence[TracePool], horizon: timedelta) -> dict[str, list[Sample]]:
    spans: dict[str, tuple[datetime, datetime]] = {}
    for pool in pools:
        start, end = spans.get(pool.folder, (pool.start, pool.end))
        spans[pool.folder] = (min(start, pool.start), max(end, pool.end))
    folders: dict[str, list[TracePool]] = {}
    for pool in pools:
        folders.setdefault(pool.pool_id, []).append(pool)
    parts: dict[str, list[Sample]] = {"fit": [], "cal": [], "test": []}
    for s in samples:
        folder = next(p.folder for p in folders[s.pool_id] if p.start <= s.at <= p.end)
        start, end = spans[folder]
        fit_end, cal_end = start + (end - start) * FIT_END, start + (end - start) * CAL_END
        if s.at + horizon <= fit_end:
            parts["fit"].append(s)
        elif fit_end <= s.at and s.at + horizon <= cal_end:
            parts["cal"].append(s)
        elif cal_end <= s.at:
            parts["test"].append(s)
    return parts


def folder_of(sample: Sample, pools: Sequence[TracePool]) -> str:
    return next(p.folder for p in pools if p.pool_id == sample.pool_id and p.start <= sample.at <= p.end)


def advisor_buckets(data_dir: Path) -> dict[tuple[str, str], int]:
    advisor = json.loads((data_dir / ADVISOR_SNAPSHOT).read_text())["spot_advisor"]
    return {
        (region, itype): int(entry["r"])
        for region, by_os in advisor.items()
        for itype, entry in by_os.get("Linux", {}).items()
    }


def choose(
    cal: Sequence[Sample], options: Sequence[float], predict: Callable[[Sample, float], bool]
) -> tuple[float, float]:
    labels = [s.label > 0.5 for s in cal]
    return max((confusion(labels, [predict(s, o) for s in cal])[0], o) for o in options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--horizon-minutes", type=int, default=60)
    parser.add_argument("--with-multi-node-availability", action="store_true")
    args = parser.parse_args()
    folders = (*TRACE_FOLDERS, MULTI_NODE_AVAILABILITY) if args.with_multi_node_availability else TRACE_FOLDERS
    data = TraceTrainingData(args.data_dir, folders)
    if not data.available():
        sys.exit(f"skipped: spot traces not found under {args.data_dir} (see ../shared/data/README.md)")
    horizon = timedelta(minutes=args.horizon_minutes)
    started = time.perf_counter()
    pools = data.pools()
    parts = split(data.risk_samples(horizon=horizon), pools, horizon)
    policy = PolicyDocument()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = CatBoostModelTrainer(FileModelStore(Path(tmp)))
        window = TrainingWindow(parts["fit"][0].at.date(), parts["fit"][-1].at.date())
        trained = trainer.fit_sync(
            ModelKind.INTERRUPTION_RISK, parts["fit"], policy.catboost_training, label="bench-risk-f1", window=window
        )
        model = CatBoostPredictor.load(trained.artifact, trained.manifest)
    scores = {part: dict(zip(map(id, parts[part]), model.predict([s.features for s in parts[part]]), strict=True))
              for part in ("cal", "test")}  # fmt: skip
    buckets = advisor_buckets(args.data_dir)

    def bucket_of(s: Sample) -> int:
        return buckets.get(
            (str(s.features["region"]), f"{s.features['instance_family']}.{s.features['instance_size']}"), -1
        )

    def recent(s: Sample, hours: float) -> bool:
        since = s.features["hours_since_last_termination"]
        return isinstance(since, float) and since <= hours

    def catboost(part: str) -> Callable[[Sample, float], bool]:
        return lambda s, threshold: scores[part][id(s)] >= threshold

    methods: list[tuple[str, str, Callable[[str], Callable[[Sample, float], bool]], Sequence[float]]] = [
        ("CatBoost (policy defaults)", "p >= {:.2f}", catboost, THRESHOLDS),
        ("Spot Advisor bucket", "r >= {:.0f}", lambda _: lambda s, k: bucket_of(s) >= k, [0, 1, 2, 3, 4, 5]),
        ("Recently preempted", "notice within {:g} h", lambda _: recent, RECENT_HOURS),
    ]
    test = parts["test"]
    labels = [s.label > 0.5 for s in test]
    counts = {k: (len(v), int(sum(s.label for s in v))) for k, v in parts.items()}
    print(f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {platform.python_version()}; folders: {len(folders)}; "
          f"samples (positives) fit {counts['fit']}, calibration {counts['cal']}, test {counts['test']}; "
          f"horizon {args.horizon_minutes} min")  # fmt: skip
    print()
    print("| method | threshold (chosen on calibration) | calibration F1 | test F1 | test precision | test recall |")
    print("|---|---|---|---|---|---|")
    chosen_by: dict[str, float] = {}
    for name, label, predictor, options in methods:
        cal_f1, chosen = choose(parts["cal"], options, predictor("cal"))
        chosen_by[name] = chosen
        f1, precision, recall = confusion(labels, [predictor("test")(s, chosen) for s in test])
        print(f"| {name} | {label.format(chosen)} | {cal_f1:.3f} | {f1:.3f} | {precision:.3f} | {recall:.3f} |")
    print()
    print("| test part of folder | samples (positives) | " + " | ".join(m[0] for m in methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    for folder in folders:
        items = [s for s in test if folder_of(s, pools) == folder]
        ys = [s.label > 0.5 for s in items]
        f1s = [confusion(ys, [m[2]("test")(s, chosen_by[m[0]]) for s in items])[0] for m in methods]
        print(f"| {folder.removeprefix('spot-traces/')} | {len(items)} ({sum(ys)}) | "
              + " | ".join(f"{f:.3f}" for f in f1s) + " |")  # fmt: skip
    print()
    print(f"CatBoost test PR-AUC {pr_auc([float(y) for y in labels], [scores['test'][id(s)] for s in test]):.3f}; "
          f"base rate {sum(labels) / len(labels):.3f}; {time.perf_counter() - started:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
