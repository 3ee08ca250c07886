"""The simulated agent acts on answers exactly as agent v4 does (agent-v4-wire.md §2, §3.4 – §3.14)."""

from __future__ import annotations

from spotopt.entrypoints.simulator import flows
from spotopt.entrypoints.simulator.market import Interruption
from spotopt.entrypoints.simulator.protocol import SHUTDOWN, InstanceFacts
from tests.unit.simulator.fleet_doubles import ScriptedServer, fleet, registered_process

SPOT = InstanceFacts("i-0a1b2c3d4e5f67890", "t3.medium", "us-east-1", "us-east-1a", "spot")
BASE = "/api/agents/agent-1"
SWITCH = {
    "id": "cmd-1",
    "command_type": "switch",
    "target_mode": "spot",
    "target_pool_id": "t3.medium.us-east-1d",
    "terminate_wait_seconds": 300,
    "priority": 25,
}


async def test_w19_w21_a_polled_switch_is_reported_then_acknowledged_and_the_agent_stops_after_terminating() -> None:
    server = ScriptedServer({("GET", "/pending-commands"): (200, {"success": True, "commands": [SWITCH]})})
    ctx = fleet(server)
    process = registered_process(ctx, SPOT)
    await process.poll_commands()
    assert server.calls() == [
        ("GET", f"{BASE}/pending-commands"),
        ("POST", f"{BASE}/switch-report"),
        ("POST", f"{BASE}/commands/cmd-1/executed"),
        ("POST", f"{BASE}/heartbeat"),
    ]
    report = server.body_of("/switch-report")
    assert (report["old_instance"]["instance_id"], report["new_instance"]["pool_id"]) == (
        SPOT.instance_id,
        "t3.medium.us-east-1d",
    )
    assert "old_instance_terminated_at" in report["timing"]  # terminate_wait_seconds > 0
    assert report["trigger"] == "model"
    assert server.body_of("/executed") == {"success": True, "message": "Switch completed"}
    assert server.body_of("/heartbeat") == SHUTDOWN
    assert not process.alive
    new = [p for p in process.agent.processes if p.alive]
    assert [p.instance.instance_id for p in new] == [report["new_instance"]["instance_id"]]  # the new instance's agent
    assert ctx.recorder.events["acks"] == 1


async def test_w20_the_emergency_switch_keeps_both_instances_and_the_agent_running() -> None:
    fallback = {
        "id": "cmd-2",
        "target_mode": "ondemand",
        "target_pool_id": None,
        "terminate_wait_seconds": 0,
        "priority": 100,
    }
    server = ScriptedServer({("GET", "/pending-commands"): (200, {"success": True, "commands": [fallback]})})
    process = registered_process(fleet(server), SPOT)
    await process.poll_commands()
    report = server.body_of("/switch-report")
    assert report["new_instance"]["mode"] == "ondemand"
    assert "old_instance_terminated_at" not in report["timing"]
    assert report["trigger"] == "manual"  # priority >= 50
    assert server.calls()[-1] == ("POST", f"{BASE}/commands/cmd-2/executed")
    assert process.alive


async def test_w21_a_failed_launch_is_acknowledged_as_failed_without_a_switch_report() -> None:
    server = ScriptedServer({("GET", "/pending-commands"): (200, [SWITCH])})
    process = registered_process(fleet(server, launch_failure_rate=1.0), SPOT)
    await process.poll_commands()
    assert server.calls() == [("GET", f"{BASE}/pending-commands"), ("POST", f"{BASE}/commands/cmd-1/executed")]
    assert server.body_of("/executed") == {"success": False, "message": "Switch failed"}


async def test_w16_a_switch_without_target_mode_is_skipped_without_an_ack_and_disabled_agents_do_not_poll() -> None:
    server = ScriptedServer({("GET", "/pending-commands"): (200, {"commands": [{**SWITCH, "target_mode": None}]})})
    process = registered_process(fleet(server), SPOT)
    await process.poll_commands()
    process.enabled = False
    await process.poll_commands()
    assert server.calls() == [("GET", f"{BASE}/pending-commands")]


async def test_w26_a_create_replica_command_registers_the_launched_replica_then_acks_with_its_id() -> None:
    command = {**SWITCH, "id": "cmd-3", "command_type": "create_replica", "target_pool_id": "t3.medium.us-east-1c"}
    server = ScriptedServer(
        {
            ("GET", "/pending-commands"): (200, {"commands": [command]}),
            ("POST", "/replicas"): (201, {"success": True, "replica_id": "rep-1", "status": "syncing"}),
        }
    )
    process = registered_process(fleet(server), SPOT)
    await process.poll_commands()
    assert server.calls()[1:] == [
        ("POST", f"{BASE}/replicas"),
        ("POST", f"{BASE}/replicas/rep-1/status"),
        ("POST", f"{BASE}/replicas/rep-1/status"),
        ("POST", f"{BASE}/commands/cmd-3/executed"),
    ]
    assert server.body_of("/replicas")["pool_id"] == "t3.medium.us-east-1c"
    assert [body["status"] for _, path, _, body in server.seen if path.endswith("/status")] == ["syncing", "ready"]
    assert server.body_of("/executed") == {"success": True, "message": "Replica created: rep-1"}


async def test_w28_w31_a_listed_launch_request_is_launched_attached_and_reported_ready() -> None:
    item = {"id": "rep-2", "pool_id": "t3.medium.us-east-1d", "az": "us-east-1d", "instance_id": None}
    server = ScriptedServer({("GET", "/replicas?status=launching"): (200, {"success": True, "replicas": [item]})})
    process = registered_process(fleet(server), SPOT)
    await process.poll_replicas()
    assert server.calls() == [
        ("GET", f"{BASE}/replicas?status=launching"),
        ("PUT", f"{BASE}/replicas/rep-2"),
        ("POST", f"{BASE}/replicas/rep-2/status"),
    ]
    attached = server.body_of("/replicas/rep-2")
    assert attached["status"] == "syncing"
    assert list(process.agent.standbys) == [attached["instance_id"]]
    assert server.body_of("/status")["status"] == "ready"


async def test_w36_a_committed_failover_stops_the_agent_and_it_comes_back_on_the_promoted_instance() -> None:
    answer = {
        "success": True,
        "action": "replica_promoted",
        "new_instance_id": "i-07c1d2e3f4a5b6c7d",
        "failover_ms": 42,
    }
    server = ScriptedServer({("POST", "/termination-imminent"): (200, answer)})
    ctx = fleet(server)
    process = registered_process(ctx, SPOT)
    await flows.handle_termination(process, Interruption(notice_at=0.0))
    assert server.calls() == [
        ("POST", f"{BASE}/create-emergency-replica"),
        ("POST", f"{BASE}/termination-imminent"),
        ("POST", f"{BASE}/heartbeat"),
    ]
    assert server.body_of("/create-emergency-replica")["signal_type"] == "termination-notice"
    assert not process.alive
    assert [p.instance.instance_id for p in process.agent.alive()] == ["i-07c1d2e3f4a5b6c7d"]
    assert ctx.recorder.failover_ms == [42.0]


async def test_w37_an_uncommitted_failover_keeps_the_agent_running() -> None:
    answer = {"success": False, "action": "ondemand_fallback_queued", "command_id": "cmd-9"}
    server = ScriptedServer({("POST", "/termination-imminent"): (202, answer)})
    ctx = fleet(server)
    process = registered_process(ctx, SPOT)
    await flows.handle_termination(process, Interruption(notice_at=0.0))
    assert process.alive
    assert ctx.recorder.events["ondemand_fallback_queued"] == 1
    assert ctx.recorder.failover_ms == []


async def test_w14_a_failed_registration_sends_the_shutdown_heartbeat_to_none_and_restarts() -> None:
    server = ScriptedServer({("POST", "/register"): (200, {})})
    ctx = fleet(server)
    process = registered_process(ctx, SPOT, agent_id="")
    process.agent_id = None
    await process.start()
    assert server.calls() == [("POST", "/api/agents/register"), ("POST", "/api/agents/None/heartbeat")]
    assert server.body_of("/heartbeat") == SHUTDOWN
    assert ctx.recorder.events["registration_failed"] == 1
    assert ctx.recorder.events["agents_registered"] == 0
    assert [p.alive for p in process.agent.processes] == [True]  # systemd restarts it


async def test_w02_gets_have_no_body_and_every_call_carries_the_agent_headers() -> None:
    server = ScriptedServer({("GET", "/config"): (200, {"enabled": False})})
    process = registered_process(fleet(server), SPOT)
    await process.refresh_config()
    await process.heartbeat()
    (_, _, get_headers, get_body), (_, _, post_headers, beat) = server.seen
    assert get_body is None
    assert get_headers["authorization"] == post_headers["authorization"] == "Bearer spo_token"
    assert get_headers["content-type"] == "application/json"
    assert get_headers["user-agent"].startswith("python-requests/")
    assert beat["status"] == "disabled"  # §3.3: enabled false → heartbeat status disabled
