"""The simulator's bodies are agent v4's bodies (agent-v4-wire.md §3), checked against the protocol replay of
tests/agent_v4 and the wire examples; its readers accept what agent v4 accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from spotopt.entrypoints.simulator import answers
from spotopt.entrypoints.simulator import protocol as wire
from spotopt.entrypoints.simulator.answers import DeliveredCommand, LaunchRequest
from spotopt.entrypoints.simulator.protocol import InstanceFacts, SwitchTiming
from tests.agent_v4 import agent as replay
from tests.agent_v4.replicas import REGISTERED

TOKEN = "spo_ZZQEN3_o-N5eT8ChcSVQrXo2tCUdniWjYu0rbWQ3m_8"
OLD = InstanceFacts(replay.OLD, "t3.medium", "us-east-1", "us-east-1a", "spot", private_ip="10.0.1.23")
NEW = InstanceFacts(replay.NEW, "t3.medium", "us-east-1", "us-east-1d", "spot", private_ip="10.0.4.17")
PRICES = {"a": 0.0125, "b": 0.0118, "c": 0.0131, "d": 0.0112, "e": 0.0139, "f": 0.0127}


def test_w02_every_request_carries_the_three_agent_headers() -> None:
    assert wire.headers(TOKEN) == replay.agent_headers(TOKEN)


def test_w10_register_body_is_the_replayed_agent_v4_body() -> None:
    assert wire.register_body(TOKEN, "web-prod-01", OLD) == replay.register_body(TOKEN)


def test_w13_heartbeat_body_is_the_replayed_body_and_disabled_while_the_config_says_so() -> None:
    assert wire.heartbeat_body(OLD) == replay.heartbeat_body(replay.OLD)
    assert wire.heartbeat_body(OLD, enabled=False) == replay.heartbeat_body(replay.OLD, status="disabled")
    assert wire.SHUTDOWN == replay.SHUTDOWN


def test_w22_pricing_report_body_is_the_replayed_spot_body() -> None:
    now = datetime(2026, 11, 28, 9, 26, 29, 481203, tzinfo=UTC)
    body = wire.pricing_report_body(
        OLD, on_demand_price=0.0416, spot_pools=[(f"us-east-1{z}", p) for z, p in PRICES.items()], collected_at=now
    )
    assert body == replay.pricing_body(now)
    assert body["pricing"]["collected_at"] == "2026-11-28T09:26:29.481203+00:00"  # type: ignore[index]


def test_w22_pricing_report_on_demand_has_null_spot_fields_and_may_list_no_pools() -> None:
    on_demand = InstanceFacts(replay.OLD, "t3.medium", "us-east-1", "us-east-1a", "ondemand")
    body = wire.pricing_report_body(on_demand, on_demand_price=0.1, spot_pools=[], collected_at=datetime.now(UTC))
    assert body["instance"]["pool_id"] is None  # type: ignore[index]
    pricing = body["pricing"]
    assert (pricing["current_spot_price"], pricing["cheapest_pool"], pricing["spot_pools"]) == (None, None, [])  # type: ignore[index]


def test_w23_switch_report_body_is_the_replayed_body_with_the_agents_key_names() -> None:
    t = datetime(2026, 11, 28, 9, 25, 14, tzinfo=UTC)
    timing = SwitchTiming(
        initiated=t - timedelta(seconds=1),
        launched=t + timedelta(milliseconds=1),
        ready=t + timedelta(milliseconds=2),
        traffic_switched=t + timedelta(milliseconds=3),
        old_terminated=t + timedelta(hours=1),
    )
    prices = {"on_demand": 0.0416, "old_spot": 0.0125, "new_spot": 0.0112}
    body = wire.switch_report_body(OLD, NEW, prices=prices, timing=timing, priority=25)
    assert body == replay.switch_report_body(t)
    assert "command_id" not in body


def test_w23_switch_report_without_termination_omits_the_last_timing_key_and_priority_50_reads_manual() -> None:
    t = datetime.now(UTC)
    on_demand = NEW.moved(replay.NEW, az="us-east-1a", mode="ondemand", private_ip="10.0.0.9")
    prices = {"on_demand": 0.0416, "old_spot": 0.0125, "new_spot": None}
    body = wire.switch_report_body(OLD, on_demand, prices=prices, timing=SwitchTiming(t, t, t, t), priority=100)
    assert set(body["timing"]) == {  # type: ignore[call-overload]
        "switch_initiated_at",
        "new_instance_launched_at",
        "new_instance_ready_at",
        "traffic_switched_at",
    }
    assert body["prices"] == {"on_demand": 0.0416, "old_spot": 0.0125}
    assert body["trigger"] == "manual"
    assert body["new_instance"]["pool_id"] is None  # type: ignore[index]


def test_replica_and_interruption_bodies_are_the_wire_examples() -> None:
    """§3.5, §3.8, §3.9, §3.11 – §3.14 as written in agent-v4-wire.md."""
    notice = datetime(2026, 11, 28, 9, 52, tzinfo=UTC)
    detected = datetime(2026, 11, 28, 9, 50, 0, 412877, tzinfo=UTC)
    assert wire.ack_body(success=True, message="Switch completed") == {"success": True, "message": "Switch completed"}
    assert wire.replica_register_body(REGISTERED, parent_instance_id=replay.OLD, pool_id="t3.medium.us-east-1c") == {
        "instance_id": REGISTERED,
        "replica_type": "manual",
        "parent_instance_id": replay.OLD,
        "pool_id": "t3.medium.us-east-1c",
        "status": "launching",
    }
    ready = datetime(2026, 11, 28, 9, 41, 5, 337120, tzinfo=UTC)
    assert wire.replica_ready_body(ready) == {
        "status": "ready",
        "sync_completed_at": "2026-11-28T09:41:05.337120+00:00",
    }
    assert set(wire.replica_syncing_body(ready)) == {"status", "sync_started_at"}
    assert wire.replica_failed_body("boom") == {"status": "failed", "error_message": "boom"}
    assert wire.attach_body("i-07c1d2e3f4a5b6c7d") == {"instance_id": "i-07c1d2e3f4a5b6c7d", "status": "syncing"}
    assert wire.rebalance_signal_body(replay.OLD) == {
        "signal_type": "rebalance-recommendation",
        "instance_id": replay.OLD,
    }
    assert wire.termination_signal_body(replay.OLD, notice) == {
        "signal_type": "termination-notice",
        "instance_id": replay.OLD,
        "termination_time": "2026-11-28T09:52:00Z",
    }
    assert wire.termination_imminent_body(replay.OLD, notice, detected) == {
        "instance_id": replay.OLD,
        "termination_time": "2026-11-28T09:52:00Z",
        "detected_at": "2026-11-28T09:50:00.412877+00:00",
    }
    assert wire.rebalance_recommendation_body(replay.OLD, detected) == {
        "instance_id": replay.OLD,
        "detected_at": "2026-11-28T09:50:00.412877+00:00",
    }


def test_w39_cleanup_body_has_the_agents_two_sections() -> None:
    body = wire.cleanup_body(datetime.now(UTC))
    assert set(body) == {"timestamp", "snapshots", "amis"}
    assert set(body["snapshots"]) == {"type", "deleted", "failed", "cutoff_date"}  # type: ignore[call-overload]
    assert set(body["amis"]) == {"type", "deleted_amis", "deleted_snapshots", "failed", "cutoff_date"}  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"agent_id": "a-1", "config": {"enabled": False}}, ("a-1", False)),
        ({"agent_id": "a-1"}, ("a-1", True)),
        ({}, None),  # W04: an empty 2xx body reads as {} and registration fails
        ({"config": {"enabled": True}}, None),
        ({"agent_id": ""}, None),
        ([], None),
        (None, None),
    ],
)
def test_w04_w11_registration_succeeds_only_with_a_string_agent_id(body: object, expected: object) -> None:
    assert answers.registered(body) == expected


SWITCH = {
    "id": "3d1edde4-19e8-4ff5-9a1d-eaf698df5a54",
    "command_type": "switch",
    "target_mode": "spot",
    "target_pool_id": "t3.medium.us-east-1d",
    "terminate_wait_seconds": 300,
    "priority": 25,
    "instance_id": replay.OLD,
    "created_at": "2026-11-28T09:25:00Z",
}
EXPECTED = DeliveredCommand(SWITCH["id"], "switch", "spot", "t3.medium.us-east-1d", 300, 25)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [
        {"success": True, "commands": [SWITCH]},
        [SWITCH],
        {"pending_commands": [SWITCH]},
        {"data": [SWITCH]},
        {"success": True, "commands": [SWITCH, {**SWITCH, "id": "second"}]},
    ],
)
def test_w16_the_first_item_is_read_from_a_list_or_any_of_the_three_keys(body: object) -> None:
    assert answers.first_command(body) == EXPECTED


def test_w16_items_agent_v4_skips_or_reinterprets() -> None:
    assert answers.first_command({"success": True, "commands": []}) is None
    assert answers.first_command({"commands": [{**SWITCH, "target_mode": None}]}) is None  # skipped, no ack
    no_pool = answers.first_command({"commands": [{**SWITCH, "target_pool_id": None}]})
    assert no_pool is not None
    assert (no_pool.target_mode, no_pool.target_pool_id) == ("ondemand", None)  # a spot switch without a pool
    defaulted = answers.first_command([{"id": "c", "target_mode": "ondemand", "priority": 100}])
    assert defaulted == DeliveredCommand("c", "switch", "ondemand", None, 0, 100)
    replica = answers.first_command(
        [{"id": "r", "command_type": "create_replica", "target_pool_id": "t3.medium.us-east-1c"}]
    )
    assert replica is not None
    assert replica.command_type == "create_replica"


def test_w29_launch_requests_need_top_level_id_pool_and_az() -> None:
    good = {"id": "r1", "pool_id": "t3.medium.us-east-1d", "az": "us-east-1d", "instance_id": None}
    body = {"success": True, "replicas": [good, {**good, "az": ""}, {**good, "id": None}, "junk"], "total": 4}
    assert answers.launch_requests(body) == [LaunchRequest("r1", "t3.medium.us-east-1d", "us-east-1d")]
    assert answers.launch_requests([good]) == [LaunchRequest("r1", "t3.medium.us-east-1d", "us-east-1d")]


def test_w08_the_az_is_the_text_after_the_last_dot() -> None:
    assert wire.az_of("t3.medium.us-east-1d") == "us-east-1d"
    assert OLD.pool_id == "t3.medium.us-east-1a"
    assert OLD.moved("i-1", az="us-east-1b", mode="ondemand", private_ip="10.0.0.1").pool_id is None


def test_w32_w36_only_an_explicit_success_true_counts() -> None:
    assert answers.succeeded({"success": True})
    assert not answers.succeeded({"success": False, "action": "failover_scheduled"})
    assert not answers.succeeded({"success": "true"})
    assert not answers.succeeded(None)
