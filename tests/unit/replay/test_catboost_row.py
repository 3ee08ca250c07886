"""The CatBoost engine row: trained strictly before the replay window, served under the real zone names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.domain.decisions.estimation import PoolEstimate, PoolSnapshot, RuleEstimator
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.decisions.training import HORIZON
from spotopt.entrypoints.replay.catboost_row import CatBoostFactory, ZoneNamedEstimator
from spotopt.entrypoints.replay.cloud import CloudSettings
from spotopt.entrypoints.replay.fleet import PoolNames
from spotopt.entrypoints.replay.market import Market, load_market, load_spot_prices
from spotopt.entrypoints.replay.runner import TRACE_EPOCH, ReplayRun, TunedSpotopt, replay, window
from tests.shared_data import require_shared_file
from tests.unit.replay.markets import market

QUICK = PolicyDocument.from_mapping({"engine_kind": "catboost", "catboost_training": {"iterations": 20}}, "quick")


class Recording:
    """An Estimator that scores like the rules and remembers every batch it was asked for."""

    def __init__(self) -> None:
        self.batches: list[list[PoolSnapshot]] = []
        self.rules = RuleEstimator.for_policy(PolicyDocument())

    def estimate(self, pools: Sequence[PoolSnapshot], now: datetime) -> dict[str, PoolEstimate]:
        self.batches.append(list(pools))
        return self.rules.estimate(pools, now)


def test_no_training_row_reaches_the_replay_window() -> None:
    """Issue 9: the CatBoost engine is trained only on data strictly before the window (``--start-day``)."""
    trace = require_shared_file("spot-traces/availability/1-node/aws-02-15-2023/us-west-2b_v100_1.json")
    prices = require_shared_file("spot-prices/spot-price-data-2022-07-23.json")
    full = load_market(trace.parent, load_spot_prices(prices, "p3.2xlarge"))
    _, history, start = window(full, 3, 1)
    assert history is not None
    factory = CatBoostFactory(trace.parents[4], QUICK, TRACE_EPOCH)
    trained = factory.train(history, start)
    own = [s for s in trained.samples if s.at >= TRACE_EPOCH]
    assert own, "the replayed trace's own days before the window are part of the training data"
    assert {s.pool_id.rsplit(".", 1)[1] for s in own} <= set(full.zone_names)
    assert all(s.at + HORIZON <= start for s in trained.samples)
    assert max(s.at for s in trained.samples) < start
    assert trained.positives > 0
    assert "replay-history" in trained.folders


def test_the_model_scores_the_replay_pools_under_their_real_zone_names() -> None:
    names = PoolNames.of("p3.2xlarge", ("us-east-1a", "us-west-2b", "us-west-2a"), one_region=True)
    inner = Recording()
    now = TRACE_EPOCH + timedelta(hours=1)
    pools = [
        PoolSnapshot(names.pool_id(z), "p3.2xlarge", names.region, names.az(z), True, price=Decimal("0.918"))
        for z in names.zones
    ]
    out = ZoneNamedEstimator(inner, names).estimate(pools, now)
    assert set(out) == {p.pool_id for p in pools}
    assert all(out[p].pool_id == p for p in out)
    batches = sorted([sorted(p.az for p in batch) for batch in inner.batches])
    assert batches == [["us-east-1a"], ["us-west-2a", "us-west-2b"]]  # one batch per real region (§6.9 rank)
    assert {p.region for batch in inner.batches for p in batch} == {"us-east-1", "us-west-2"}


def test_the_catboost_rows_run_with_the_factory_and_its_history() -> None:
    seen: list[tuple[Market | None, datetime]] = []
    estimator = Recording()

    def factory(history: Market | None, start: datetime) -> Recording:
        seen.append((history, start))
        return estimator

    full = market(a="1" * 30 + "0011" * 10, b="1" * 70)
    current, history, start = window(full, 20 * 60 / 86_400, None)
    tuned = (TunedSpotopt(PolicyDocument(), "t"), TunedSpotopt(PolicyDocument(), "t, fleet", fleet_view=True))
    run = ReplayRun(current, CloudSettings(cold_start=60), epoch=start, history=history, tuned=tuned, catboost=factory)
    names = [r.policy for r in replay(run)]
    assert names[-3:] == ["spotopt catboost, t", "spotopt catboost, t, fleet", "oracle (perfect foresight)"]
    assert seen == [(history, start)]
    assert estimator.batches, "the rows decide with the factory's estimator"
    ages = [p.history.instance_age_hours for b in estimator.batches for p in b if p.history is not None]
    assert any(a is not None and a > 0 for a in ages), "the primary's pool carries the instance's age (§6.9)"
