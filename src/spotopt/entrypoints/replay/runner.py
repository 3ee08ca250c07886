"""One replay run: the market, every policy of the comparison, and their results."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from spotopt.domain.decisions.estimation import Estimator
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.replicas.precaution import PrecautionSettings
from spotopt.domain.shared.pools import region_of_az
from spotopt.entrypoints.replay import baselines
from spotopt.entrypoints.replay.agent_state import SpotoptSettings
from spotopt.entrypoints.replay.catboost_row import ZoneNamedEstimator
from spotopt.entrypoints.replay.cloud import Cloud, CloudSettings, Policy
from spotopt.entrypoints.replay.fleet import PoolNames
from spotopt.entrypoints.replay.market import Market
from spotopt.entrypoints.replay.results import ReplayResult
from spotopt.entrypoints.replay.spotopt_policy import SpotoptPolicy

# The 1-node availability traces of 2023-02-15 start that day (UTC); the replay's clock starts there.
TRACE_EPOCH = datetime(2023, 2, 15, tzinfo=UTC)
DAY = 86_400

# The CatBoost engine: a factory that trains on data strictly before the replay window (``history``, the replayed
# market before it, if any; the window's start) and returns an Estimator (DP-2). ``catboost_row.CatBoostFactory``.
EstimatorFactory = Callable[[Market | None, datetime], Estimator]


@dataclass(frozen=True, slots=True)
class TunedSpotopt:
    """The second spotopt row: a policy document from a file and the RP-11 hold, with or without the fleet view."""

    policy: PolicyDocument
    label: str
    standby_hours: Decimal = Decimal(0)
    fleet_view: bool = False


@dataclass(frozen=True, slots=True)
class ReplayRun:
    market: Market
    cloud: CloudSettings
    epoch: datetime = TRACE_EPOCH
    history: Market | None = None  # the market before the window, for trained estimators
    tuned: Sequence[TunedSpotopt] = ()
    seed: int = 0
    catboost: EstimatorFactory | None = field(default=None)


def policy_from_file(path: Path) -> PolicyDocument:
    """A policy document (M18 format, DP-17) read from JSON; invalid documents are rejected whole."""
    return PolicyDocument.from_mapping(json.loads(path.read_text()), policy_version=path.stem)


def window(market: Market, start_day: float, days: float | None) -> tuple[Market, Market | None, datetime]:
    """The replay window ``[start_day, start_day + days)`` of ``market``, the history before it, and its epoch."""
    start = round(start_day * DAY / market.gap_seconds)
    end = None if days is None else start + round(days * DAY / market.gap_seconds)
    if not 0 <= start < market.ticks or (end is not None and end <= start):
        raise ValueError("the replay window is outside the trace")
    history = market.window(0, start) if start > 0 else None
    return market.window(start, end), history, TRACE_EPOCH + timedelta(seconds=start * market.gap_seconds)


def same_region(zones: Sequence[str]) -> bool:
    return len({region_of_az(z) for z in zones}) == 1


def build_policies(run: ReplayRun) -> list[tuple[Policy, str]]:
    market, zones, seed = run.market, run.market.zone_names, run.seed
    best = max(zones, key=market.share_obtainable)
    one_region = not same_region(zones)
    itype = market.instance_type

    def spotopt(name: str, settings: SpotoptSettings, estimator: Estimator | None = None) -> SpotoptPolicy:
        return SpotoptPolicy(name, zones, instance_type=itype, epoch=run.epoch, settings=settings, estimator=estimator)

    rows: list[tuple[Policy, str]] = [
        (baselines.OnDemandOnly(), ""),
        (baselines.FixedZone(best), best),
        (baselines.Greedy(zones, seed=seed), ""),
        (baselines.GreedyBlocklist(zones, seed=seed), "24 h"),
        (baselines.HotStandby(zones, seed=seed), ""),
        (spotopt("spotopt rules, spec defaults", SpotoptSettings(one_region=one_region)), "policy builtin"),
    ]
    for t in run.tuned:
        settings = SpotoptSettings(
            policy=t.policy,
            precaution=PrecautionSettings(t.standby_hours),
            one_region=one_region,
            fleet_view=t.fleet_view,
        )
        note = f"policy {t.policy.policy_version}, RP-11 {t.standby_hours} h" + (", fleet view" if t.fleet_view else "")
        rows.append((spotopt(f"spotopt rules, {t.label}", settings), note))
    rows.append((baselines.Oracle(zones), ""))
    return rows


def catboost_rows(run: ReplayRun) -> list[tuple[Policy, str]]:
    """The CatBoost engine with each tuned row's settings, trained once before the window; none without a factory."""
    factory = run.catboost
    if factory is None or not run.tuned:
        return []
    names = PoolNames.of(
        run.market.instance_type, run.market.zone_names, one_region=not same_region(run.market.zone_names)
    )
    estimator = ZoneNamedEstimator(factory(run.history, run.epoch), names)
    rows: list[tuple[Policy, str]] = []
    for t in run.tuned:
        settings = SpotoptSettings(
            policy=t.policy,
            precaution=PrecautionSettings(t.standby_hours),
            one_region=names.one_region,
            fleet_view=t.fleet_view,
        )
        policy = SpotoptPolicy(
            f"spotopt catboost, {t.label}",
            run.market.zone_names,
            instance_type=run.market.instance_type,
            epoch=run.epoch,
            settings=settings,
            estimator=estimator,
        )
        rows.append((policy, "risk model trained before the window"))
    return rows


def replay(run: ReplayRun) -> list[ReplayResult]:
    rows = build_policies(run)
    rows[-1:-1] = catboost_rows(run)
    results: list[ReplayResult] = []
    for policy, note in rows:
        started = time.perf_counter()
        cloud = Cloud(run.market, run.cloud)
        cloud.run(policy)
        seconds = time.perf_counter() - started
        results.append(ReplayResult.of(policy.name, cloud, f"{note}; {seconds:.1f} s".lstrip("; ")))
    return results
