"""Failover benchmark: termination notice (R9) → committed promotion, for N agents that each have a ready replica.

Starts `spotopt serve` (uvicorn, background jobs off) on a loopback port against --database-url (default: a fresh
SQLite file), prepares N agents through the routes only (register, one pricing report, R8 rebalance → launch
request, R2 claim, R5 attach, R6 ready), then sends one termination-imminent per agent with --concurrency calls in
flight. Reports the server-side `failover_ms` of the answers (notice received → promotion, domain §2.7; includes the
wait for the agent row lock) and the client round trip, p50 and p99, as a markdown table. Every answer must be a
200 with `success: true` and the replica's instance as `new_instance_id`. Sends traffic only to 127.0.0.1; run by
hand and record the results in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from agent_load import ADMIN, free_port, instance_id, pricing_body, start_server, wait_ready


def register_body(n: int) -> dict[str, object]:
    return {
        "logical_agent_id": f"failover-{n}", "instance_id": instance_id(n + 1), "instance_type": "t3.medium",
        "region": "us-east-1", "az": "us-east-1a", "mode": "spot", "public_ip": None,
    }  # fmt: skip


async def prepare(client: httpx.AsyncClient, n: int) -> tuple[str, str, str]:
    """One agent with a ready replica, through the routes; returns (agent id, primary id, replica instance id)."""
    registered = await client.post("/api/agents/register", json=register_body(n))
    registered.raise_for_status()
    agent_id, primary, standby = registered.json()["agent_id"], instance_id(n + 1), instance_id(1_000_000 + n)
    base = f"/api/agents/{agent_id}"
    if n == 0:  # the pool catalogue is fleet-wide: one report makes every pool of the region known
        (await client.post(f"{base}/pricing-report", json=pricing_body(primary, 0))).raise_for_status()
    signal = {"signal_type": "rebalance-recommendation", "instance_id": primary}
    emergency = await client.post(f"{base}/create-emergency-replica", json=signal)
    if emergency.status_code != 201:
        raise RuntimeError(f"R8: {emergency.status_code} {emergency.text[:200]}")
    replica_id = emergency.json()["replica_id"]
    listed = (await client.get(f"{base}/replicas", params={"status": "launching"})).json()["replicas"]
    assert [r["id"] for r in listed] == [replica_id]
    (await client.put(f"{base}/replicas/{replica_id}", json={"instance_id": standby})).raise_for_status()
    ready = await client.post(f"{base}/replicas/{replica_id}/status", json={"status": "ready"})
    assert ready.json()["status"] == "ready", ready.text
    return agent_id, primary, standby


async def fail_over(
    client: httpx.AsyncClient, agents: list[tuple[str, str, str]], concurrency: int
) -> tuple[list[float], list[float]]:
    """One R9 per agent, ``concurrency`` in flight; returns (server failover_ms, client round trip ms)."""
    server: list[float] = []
    client_ms: list[float] = []
    queue: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()
    for agent in agents:
        queue.put_nowait(agent)

    async def worker() -> None:
        while not queue.empty():
            agent_id, primary, standby = queue.get_nowait()
            deadline = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = {"instance_id": primary, "termination_time": deadline, "detected_at": datetime.now(UTC).isoformat()}
            start = time.perf_counter()
            answer = await client.post(f"/api/agents/{agent_id}/termination-imminent", json=body)
            client_ms.append((time.perf_counter() - start) * 1000)
            result = answer.json()
            if answer.status_code != 200 or result.get("new_instance_id") != standby:
                raise RuntimeError(f"R9: {answer.status_code} {answer.text[:200]}")
            server.append(float(result["failover_ms"]))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return server, client_ms


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def run(base: str, agents: int, concurrency: int) -> str:
    limits = httpx.Limits(max_connections=max(concurrency, 8))
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        created = await client.post(
            "/api/admin/clients/create",
            json={"name": f"failover-{secrets.token_hex(4)}", "max_agents": agents + 10},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        client.headers.update({"Authorization": f"Bearer {created.json()['client_token']}"})
        prepared = [await prepare(client, n) for n in range(agents)]
        server, round_trip = await fail_over(client, prepared, concurrency)
    s50, s99 = percentiles(server)
    c50, c99 = percentiles(round_trip)
    return f"| {len(server)} | {concurrency} | {s50:.0f} | {s99:.0f} | {c50:.1f} | {c99:.1f} |"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(args.database_url, Path(tmp), port)
        try:
            await wait_ready(base)
            db = "sqlite" if not args.database_url else args.database_url.split("://")[0]
            print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d}, "
                  f"db={db}, agents={args.agents}, concurrency={args.concurrency}")  # fmt: skip
            print("| failovers | in flight | server failover_ms p50 | p99 | round trip ms p50 | p99 |")
            print("|---|---|---|---|---|---|")
            print(await run(base, args.agents, args.concurrency))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
