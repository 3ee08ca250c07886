"""Issue 3 "Done when": 20 simultaneous termination notices (R9) for one agent with a ready replica promote exactly
once and all get the same answer (domain §3.7.3 idempotency, EP-4, CC-3, CC-5; agent v4 W07, W36, W38).

The app runs in a real uvicorn server on a loopback port (its own thread and event loop) over the integration
database (MariaDB in CI; SQLite serialises the writers, CC-9), and the 20 calls go out at once on 20 connections.
The test client's in-process transport is not used for the burst: a real server is what makes the lock waits real.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import create_engine, text

from spotopt.adapters.persistence.engine import sync_url
from spotopt.bootstrap.settings import Settings
from spotopt.entrypoints.http.app import create_app
from tests import services
from tests.agent_v4.agent import iso, pricing_body, register_body
from tests.http_app import ADMIN_TOKEN, make_settings, reset_database

CALLS = 20
PRIMARY = "i-0a1b2c3d4e5f67890"  # the agent's instance in tests.agent_v4 bodies (us-east-1a)
STANDBY = "i-07c1d2e3f4a5b6c7d"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The real app under uvicorn in a background thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@asynccontextmanager
async def agent_with_ready_replica(base: str) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    """Through the routes only: client, registration (A1), prices (A6), rebalance (R8) → launch request, launcher
    claim (R2), attach (R5), ready (R6). Yields the agent's HTTP client, agent id and replica id."""
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=CALLS + 5)) as http:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        created = await http.post("/api/admin/clients/create", json={"name": "burst"}, headers=admin)
        assert created.status_code == 201, created.text
        token = created.json()["client_token"]
        http.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        registered = await http.post("/api/agents/register", json=register_body(token))
        assert registered.status_code == 201, registered.text
        agent_id = registered.json()["agent_id"]
        base_path = f"/api/agents/{agent_id}"
        priced = await http.post(f"{base_path}/pricing-report", json=pricing_body(datetime.now(UTC)))
        assert priced.status_code == 200, priced.text
        signal = {"signal_type": "rebalance-recommendation", "instance_id": PRIMARY}
        emergency = await http.post(f"{base_path}/create-emergency-replica", json=signal)
        assert emergency.status_code == 201, emergency.text
        replica_id = emergency.json()["replica_id"]
        [listed] = (await http.get(f"{base_path}/replicas", params={"status": "launching"})).json()["replicas"]
        assert listed["id"] == replica_id
        attached = await http.put(f"{base_path}/replicas/{replica_id}", json={"instance_id": STANDBY})
        assert attached.status_code == 200, attached.text
        ready = await http.post(f"{base_path}/replicas/{replica_id}/status", json={"status": "ready"})
        assert ready.json()["status"] == "ready", ready.text
        yield http, agent_id, replica_id


def stored(settings: Settings, agent_id: str) -> dict[str, Any]:
    """What the database holds for the agent after the burst (read outside the app)."""
    engine = create_engine(sync_url(settings.database_url))
    try:
        with engine.connect() as conn:
            args = {"agent": agent_id}
            return {
                "replicas": sorted(
                    tuple(row)
                    for row in conn.execute(
                        text("SELECT replica_id, status FROM replicas WHERE agent_id = :agent"), args
                    )
                ),
                "promoted_events": conn.execute(
                    text("SELECT COUNT(*) FROM system_events WHERE type = 'replica_promoted' AND agent_id = :agent"),
                    args,
                ).scalar_one(),
                "primaries": [
                    row[0]
                    for row in conn.execute(
                        text("SELECT instance_id FROM instances WHERE agent_id = :agent AND role = 'primary'"), args
                    )
                ],
                "pointer": conn.execute(
                    text("SELECT primary_instance_id FROM agents WHERE agent_id = :agent"), args
                ).scalar_one(),
                "episodes": [
                    tuple(row)
                    for row in conn.execute(
                        text("SELECT state, promoted_replica_id FROM interruption_episodes WHERE agent_id = :agent"),
                        args,
                    )
                ],
            }
    finally:
        engine.dispose()


async def test_ep4_twenty_simultaneous_termination_notices_promote_once_and_answer_identically(
    tmp_path: Path,
) -> None:
    settings = make_settings(services.test_database_url(tmp_path), tmp_path)
    reset_database(settings)
    with serving(settings) as base:
        async with agent_with_ready_replica(base) as (http, agent_id, replica_id):
            deadline = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
            notice = {"instance_id": PRIMARY, "termination_time": deadline, "detected_at": iso(datetime.now(UTC))}
            path = f"/api/agents/{agent_id}/termination-imminent"
            answers = await asyncio.gather(*(http.post(path, json=notice) for _ in range(CALLS)))
    assert [a.status_code for a in answers] == [200] * CALLS, [(a.status_code, a.text) for a in answers]
    bodies = [a.json() for a in answers]
    first = bodies[0]
    assert all(body == first for body in bodies)  # W38: one failover result, replayed to everyone
    assert (first["success"], first["action"], first["new_instance_id"], first["replica_id"]) == (
        True,
        "replica_promoted",
        STANDBY,
        replica_id,
    )
    assert first["episode_id"]
    state = stored(settings, agent_id)
    assert state["replicas"] == [(replica_id, "promoted")]
    assert state["promoted_events"] == 1
    assert state["primaries"] == [STANDBY]
    assert state["pointer"] == STANDBY
    assert state["episodes"] == [("failed_over", replica_id)]
