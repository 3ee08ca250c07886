"""Ten simulated agents for a few seconds against a real embedded ``spotopt serve`` (SQLite, Valkey, job worker):
every agent v4 call is served without a 5xx or a lost answer, and every acknowledged write is in the database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from spotopt.entrypoints.simulator.fleet import FleetOptions, run_fleet
from spotopt.entrypoints.simulator.reconcile import reconcile
from spotopt.entrypoints.simulator.server import embedded_server

AGENT_ROUTES = (
    "A1 register",
    "A2 heartbeat",
    "A3 config",
    "A4 pending-commands",
    "A6 pricing-report",
    "A9 cleanup-report",
    "R2 replicas?status=launching",
)


def test_ten_agents_speak_agent_v4_to_an_embedded_server_and_nothing_acknowledged_is_lost(tmp_path: Path) -> None:
    acked = tmp_path / "acked.jsonl"
    with embedded_server(keep_dir=tmp_path / "server") as server:
        options = FleetOptions(
            agents=10,
            server=server.url,
            admin_token=server.admin_token,
            duration=12,
            speed=10,
            ramp=2,
            concurrency=16,
            burst_at=3,
            burst_agents=2,
            burst_window=5,
            launch_failure_rate=0.0,
            acked_path=acked,
            drain=3,
        )
        summary = asyncio.run(run_fleet(options))
        outcome = asyncio.run(reconcile(acked, server.database_url))
        tampered = tmp_path / "tampered.jsonl"
        lost = {"kind": "pricing_report", "agent_id": "x", "report_id": "00000000-0000-4000-8000-000000000000"}
        tampered.write_text(acked.read_text() + json.dumps(lost) + "\n")
        audit_of_tampered = asyncio.run(reconcile(tampered, server.database_url))

    assert summary["simulator_failures"] == []
    assert summary["events"]["agents_registered"] == 10
    assert summary["events"]["registration_failed"] == 0
    for route in AGENT_ROUTES:
        assert summary["routes"][route]["requests"] > 0, route
    assert not [s for s in summary["errors_by_status"] if s == "0" or s.startswith("5")], summary["errors_by_status"]
    assert summary["events"]["burst_agents"] >= 1
    r9 = summary["routes"]["R9 termination-imminent"]
    assert r9["requests"] == summary["events"]["notices_sent"] >= 1
    assert set(r9["errors"]) <= {"409"}  # 200/202 answers, or 409 no_action_possible (W36, W37)
    assert outcome.ok, outcome.report()
    assert outcome.checked["register"] >= 10
    assert outcome.checked["pricing_report"] >= 10
    assert outcome.checked["heartbeat"] >= 1
    assert not audit_of_tampered.ok
    assert any(lost["report_id"] in line for line in audit_of_tampered.missing)
