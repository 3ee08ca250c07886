"""The simulated market: deterministic per seed, agent v4's pool shapes, one interruption per instance."""

from __future__ import annotations

import random

from spotopt.entrypoints.simulator.market import NOTICE_LEAD_SECONDS, Interruption, Market


def test_prices_are_deterministic_per_seed_and_list_every_spot_az() -> None:
    market, again = Market(seed=3), Market(seed=3)
    pools = market.spot_pools("t3.medium", "us-east-1", 3600)
    assert pools == again.spot_pools("t3.medium", "us-east-1", 3600)
    assert [az for az, _ in pools] == [f"us-east-1{z}" for z in "abcdef"]
    assert all(0 < price < 0.0416 for _, price in pools)  # spot below on-demand
    assert pools != Market(seed=4).spot_pools("t3.medium", "us-east-1", 3600)


def test_one_offering_has_a_single_spot_az_so_its_notices_need_the_on_demand_fallback() -> None:
    market = Market(seed=1)
    assert any(len(o.azs) == 1 for o in market.offerings)
    offering, az = market.place(random.Random(5))
    assert az in offering.azs


def test_an_instance_is_interrupted_once_and_signals_come_due_in_order() -> None:
    market = Market(seed=1)
    market.interrupt("i-1", Interruption(notice_at=100.0, rebalance_at=10.0))
    market.interrupt("i-1", Interruption(notice_at=5.0))  # ignored: the first plan wins
    assert not market.rebalance_due("i-1", 9.9)
    assert market.rebalance_due("i-1", 10.0)
    assert market.notice_due("i-1", 99.0) is None
    planned = market.notice_due("i-1", 100.0)
    assert planned is not None
    assert planned.reclaim_at == 100.0 + NOTICE_LEAD_SECONDS
    assert market.notice_due("i-2", 1e9) is None
