"""Agent-load benchmark: heartbeat and pricing-report throughput and latency of ONE server process.

Starts `spotopt serve` (uvicorn, background jobs off) on a loopback port against the database given by
--database-url (default: a fresh SQLite file), registers agents, then drives heartbeats and pricing reports
from concurrent clients for a fixed number of requests. Prints medians and p99 per route; run by hand and
record results in docs/benchmarks.md. Sends traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ADMIN = "bench-admin-token-" + secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(database_url: str | None, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SPOTOPT_DATA_DIR": str(data_dir),
        "ENABLE_BACKGROUND_JOBS": "false",
        "SPOTOPT_ADMIN_TOKEN": ADMIN,
        "SPOTOPT_AGENT_RATE_LIMIT": "1000000",
        "PORT": str(port),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
        subprocess.run([sys.executable, "-m", "spotopt.entrypoints.cli.main", "db", "upgrade"], env=env, check=True)
    return subprocess.Popen(
        [sys.executable, "-m", "spotopt.entrypoints.cli.main", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("BENCH_SERVER_LOG") else subprocess.DEVNULL,
    )


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{base}/health")).status_code in (200, 503):
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


def instance_id(n: int) -> str:
    return "i-" + f"{n:017x}"


async def setup(base: str, agents: int) -> tuple[str, list[tuple[str, str]]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        created = await client.post(
            "/api/admin/clients/create",
            json={"name": f"bench-{secrets.token_hex(4)}", "max_agents": agents + 10},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        token = created.json()["client_token"]
        headers = {"Authorization": f"Bearer {token}"}
        ids = []
        for n in range(agents):
            body = {
                "logical_agent_id": f"bench-{n}", "instance_id": instance_id(n + 1), "instance_type": "t3.medium",
                "region": "us-east-1", "az": "us-east-1a", "mode": "spot", "public_ip": None,
            }  # fmt: skip
            agent_id = (await client.post("/api/agents/register", json=body, headers=headers)).json()["agent_id"]
            ids.append((agent_id, instance_id(n + 1)))
        return token, ids


def pricing_body(iid: str, seq: int) -> dict[str, object]:
    pools = [
        {"pool_id": f"t3.medium.us-east-1{z}", "instance_type": "t3.medium", "az": f"us-east-1{z}", "price": 0.0125 + i / 10000}
        for i, z in enumerate("abcdef")
    ]  # fmt: skip
    collected = datetime.now(UTC).replace(microsecond=seq % 1_000_000).isoformat()
    return {
        "instance": {"instance_id": iid, "instance_type": "t3.medium", "region": "us-east-1", "az": "us-east-1a",
                     "mode": "spot", "pool_id": "t3.medium.us-east-1a"},
        "pricing": {"on_demand_price": 0.0416, "current_spot_price": 0.0125, "cheapest_pool": None,
                    "spot_pools": pools, "collected_at": collected},
    }  # fmt: skip


async def drive(
    base: str, token: str, agents: list[tuple[str, str]], route: str, total: int, concurrency: int
) -> list[float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(total):
        queue.put_nowait(n)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            agent_id, iid = agents[n % len(agents)]
            if route == "heartbeat":
                path, body = (
                    f"/api/agents/{agent_id}/heartbeat",
                    {"status": "online", "instance_id": iid, "monitored_instances": [iid]},
                )
            else:
                path, body = f"/api/agents/{agent_id}/pricing-report", pricing_body(iid, n)
            start = time.perf_counter()
            response = await client.post(path, json=body, headers=headers)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"{route}: {response.status_code} {response.text[:200]}")

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.append(-elapsed)  # marker: total wall time, stripped by the caller
    return latencies


def summarise(route: str, samples: list[float]) -> str:
    wall = -samples.pop()
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"| {route} | {len(ms)} | {len(ms) / wall:.0f} | {statistics.median(ms):.1f} | {p99:.1f} |"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(args.database_url, Path(tmp), port)
        try:
            await wait_ready(base)
            token, agents = await setup(base, args.agents)
            print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d}, "
                  f"db={'sqlite' if not args.database_url else args.database_url.split('://')[0]}, "
                  f"agents={args.agents}, concurrency={args.concurrency}")  # fmt: skip
            print("| route | requests | req/s | p50 ms | p99 ms |")
            print("|---|---|---|---|---|")
            for route in ("heartbeat", "pricing-report"):
                await drive(base, token, agents, route, min(200, args.requests), args.concurrency)  # warm-up
                print(summarise(route, await drive(base, token, agents, route, args.requests, args.concurrency)))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
