"""Read latency of every ``GET /api/client/...`` route for a big client (issue 8 "Done when").

Seeds one client with 1,000 agents, 100,000 switches over the last 30 days, a ledger (one closed entry per agent per
day for 30 days plus the open ones) and the final daily snapshots the snapshot job would have written, by bulk
insert straight into a MariaDB database. Then starts a real ``spotopt serve`` process, enumerates the client GET
routes from its OpenAPI document (so routes added later are measured too), and measures p50/p99 per route, one
request at a time. Finally prints ``EXPLAIN`` of the three heaviest queries behind them.

    .venv/bin/python bench/client_reads.py --database-url mysql+pymysql://root@127.0.0.1:3306/spotopt_bench_reads
"""

# ruff: noqa: S603 - a benchmark runs the server, prints results and uses non-crypto randomness
from __future__ import annotations

import argparse
import hashlib
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_support import spotopt_command, start_server, stop_server

from spotopt.adapters.persistence.mappers.agents import AGENTS, INSTANCES
from spotopt.adapters.persistence.mappers.clients import CLIENTS
from spotopt.adapters.persistence.mappers.commands import SWITCHES
from spotopt.adapters.persistence.mappers.ledger import LEDGER_ENTRIES, SAVINGS_DAILY
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.instance import Instance
from spotopt.domain.agents.values import InstanceOrigin, InstanceRole
from spotopt.domain.clients.client import Client
from spotopt.domain.commands.switch import InstanceFacts, Switch, SwitchTiming
from spotopt.domain.ledger.entry import CloseReason, LedgerEntry, LedgerEntryId, entry_amounts
from spotopt.domain.ledger.savings import summarise_day
from spotopt.domain.ledger.snapshots import SavingsDailySnapshot, day_start
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId, SwitchId, new_id
from spotopt.domain.shared.pools import Mode

BATCH = 5_000
ONDEMAND = Decimal("0.041600")
HEAVIEST = {
    "C19 switch-history page (count + newest 50)": (
        "SELECT * FROM switches WHERE client_id = :c AND received_at >= :since AND received_at <= :now "
        "ORDER BY received_at DESC, switch_id ASC LIMIT 50"
    ),
    "C18/C20/C21 closed ledger entries of the non-final days": (
        "SELECT * FROM ledger_entries WHERE client_id IN (:c) AND started_at >= :today AND open_key IS NULL"
    ),
    "C20 switch origins of the rolling window": (
        "SELECT origin, count(*) FROM switches WHERE client_id = :c AND received_at >= :since "
        "AND received_at <= :now GROUP BY origin"
    ),
}


def rows_of(mapper: Any, entities: list[Any]) -> list[dict[str, Any]]:
    """Column values of each entity exactly as the repositories would write them (the mappers' ``to_model``)."""
    attrs = [a.key for a in mapper.model.__mapper__.column_attrs]
    out = []
    for entity in entities:
        model = mapper.to_model(entity)
        out.append({key: getattr(model, key) for key in attrs})
    return out


def bulk(engine: Engine, mapper: Any, entities: list[Any]) -> None:
    rows = rows_of(mapper, entities)
    with engine.begin() as conn:
        for start in range(0, len(rows), BATCH):
            conn.execute(insert(mapper.model.__table__), rows[start : start + BATCH])


def seed(engine: Engine, agents: int, switches: int, now: datetime) -> tuple[ClientId, str, str]:
    rng = random.Random(8)
    start = now - timedelta(days=30)
    client = Client(
        client_id=ClientId(new_id()), name="bench-big-client", email=None, token_hash="", token_hint="x",
        token_issued_at=start, created_at=start - timedelta(days=1), updated_at=start, max_agents=10_000,
    )  # fmt: skip
    token = "spo_" + secrets.token_urlsafe(32)
    client.token_hash = hashlib.sha256(token.encode()).hexdigest()
    all_agents, instances, entries, records = [], [], [], []
    today = day_start(now)
    for n in range(agents):
        agent = Agent(
            agent_id=AgentId(new_id()), client_id=client.client_id, logical_agent_id=f"web-{n}",
            created_at=start, updated_at=now, last_heartbeat_at=now, liveness_changed_at=now,
        )  # fmt: skip
        iid = InstanceId(f"i-{n:017x}")
        az = "us-east-1" + "abcd"[n % 4]
        pool = f"t3.medium.{az}"
        instances.append(Instance(
            client_id=client.client_id, instance_id=iid, agent_id=agent.agent_id, role=InstanceRole.PRIMARY,
            origin=InstanceOrigin.REGISTERED, instance_type="t3.medium", region="us-east-1", az=az, mode=Mode.SPOT,
            first_seen_at=start, role_changed_at=start, primary_since=start, last_seen_at=now,
        ))  # fmt: skip
        agent.set_placement(instance_id=iid, instance_type="t3.medium", region="us-east-1", az=az, mode=Mode.SPOT,
                            pool_id=pool, since=start)  # fmt: skip
        all_agents.append(agent)
        price = Decimal("0.0125") + Decimal(n % 7) / 1000
        for d in range(30, -1, -1):
            begin = today - timedelta(days=d)
            end = None if d == 0 else begin + timedelta(days=1)
            entry = LedgerEntry(
                entry_id=LedgerEntryId(new_id()), client_id=client.client_id, agent_id=agent.agent_id,
                instance_id=iid, role=InstanceRole.PRIMARY, mode=Mode.SPOT, pool_id=pool, instance_type="t3.medium",
                region="us-east-1", started_at=begin, price=price, baseline=ONDEMAND,
            )  # fmt: skip
            if end is not None:
                amounts = entry_amounts(entry.role, price, ONDEMAND, end - begin)
                entry.ended_at, entry.close_reason, entry.hours = end, CloseReason.DAY_BOUNDARY, amounts.hours
                entry.cost, entry.baseline_cost, entry.savings = amounts.cost, amounts.baseline_cost, amounts.savings
            entries.append(entry)
    for _ in range(switches):
        agent = all_agents[rng.randrange(agents)]
        at = start + timedelta(seconds=rng.uniform(0, 30 * 86_400))
        records.append(Switch(
            switch_id=SwitchId(new_id()), client_id=client.client_id, agent_id=agent.agent_id,
            logical_agent_id=agent.logical_agent_id, origin=rng.choice(["automatic", "manual", "agent", "emergency"]),
            old=InstanceFacts(InstanceId(f"i-{rng.getrandbits(68):017x}"), "t3.medium", "us-east-1", "us-east-1a", "spot"),
            new=InstanceFacts(InstanceId(f"i-{rng.getrandbits(68):017x}"), "t3.medium", "us-east-1", "us-east-1b", "spot"),
            timing=SwitchTiming(), applied=True, received_at=at, old_price=Decimal("0.0131"),
            new_price=Decimal("0.0125"), baseline=ONDEMAND,
        ))  # fmt: skip
    by_day: dict[Any, list[LedgerEntry]] = {}
    for entry in entries:
        if entry.ended_at is not None:
            by_day.setdefault(entry.started_at.date(), []).append(entry)
    snapshots = [
        SavingsDailySnapshot.of(client.client_id, summarise_day(day_entries, day), final=True, now=now)
        for day, day_entries in sorted(by_day.items())
    ]
    bulk(engine, CLIENTS, [client])
    bulk(engine, AGENTS, all_agents)
    bulk(engine, INSTANCES, instances)
    bulk(engine, LEDGER_ENTRIES, entries)
    bulk(engine, SWITCHES, records)
    bulk(engine, SAVINGS_DAILY, snapshots)
    print(f"seeded {agents} agents, {len(instances)} instances, {len(entries)} ledger entries, "
          f"{len(records)} switches, {len(snapshots)} final daily snapshots")  # fmt: skip
    return client.client_id, token, all_agents[0].agent_id


def reset(sync_url: str, async_url: str, data_dir: Path) -> Engine:
    server_url, _, name = sync_url.rpartition("/")
    admin = create_engine(server_url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    admin.dispose()
    env = {**os.environ, "DATABASE_URL": async_url, "SPOTOPT_DATA_DIR": str(data_dir)}
    subprocess.run([*spotopt_command(), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    return create_engine(sync_url)


def client_routes(base: str) -> list[str]:
    paths = httpx.get(f"{base}/docs/openapi.json", timeout=30).json()["paths"]
    return sorted(p for p, ops in paths.items() if p.startswith("/api/client/") and "get" in ops)


def measure(base: str, path: str, token: str, requests: int, budget: float) -> tuple[int, float, float, int]:
    headers = {"Authorization": f"Bearer {token}"}
    samples: list[float] = []
    status = 0
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        for _ in range(3):  # warm-up
            status = http.get(path).status_code
        began = time.perf_counter()
        while len(samples) < requests and time.perf_counter() - began < budget:
            t0 = time.perf_counter()
            status = http.get(path).status_code
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return len(samples), statistics.median(samples), p99, status


def explain(engine: Engine, client_id: str, now: datetime) -> None:
    params = {"c": client_id, "since": now - timedelta(days=30), "now": now, "today": day_start(now)}
    with engine.connect() as conn:
        for title, sql in HEAVIEST.items():
            print(f"\nEXPLAIN {title}:")
            for row in conn.execute(text("EXPLAIN " + sql), params).mappings():
                print("  ", {k: row[k] for k in ("table", "type", "key", "rows", "Extra")})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="mysql+pymysql://root@127.0.0.1:3306/spotopt_bench_reads")
    parser.add_argument("--agents", type=int, default=1_000)
    parser.add_argument("--switches", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--budget-seconds", type=float, default=30.0)
    args = parser.parse_args()
    sync_url = args.database_url
    async_url = sync_url.replace("mysql+pymysql", "mysql+asyncmy")
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        engine = reset(sync_url, async_url, Path(tmp))
        client_id, token, agent_id = seed(engine, args.agents, args.switches, now)
        os.environ["SPOTOPT_CLIENT_RATE_LIMIT"] = "1000000000"
        server, base, _ = start_server(async_url, Path(tmp), [])
        try:
            ids = {"client_id": client_id, "agent_id": agent_id, "instance_id": f"i-{0:017x}"}
            print("\n| route | requests | p50 ms | p99 ms | status |\n|---|---|---|---|---|")
            for template in client_routes(base):
                try:
                    path = template.format(**ids)
                except KeyError as missing:
                    print(f"| GET {template} | skipped: no seeded value for {missing} | | | |")
                    continue
                n, p50, p99, status = measure(base, path, token, args.requests, args.budget_seconds)
                print(f"| GET {template} | {n} | {p50:.1f} | {p99:.1f} | {status} |")
        finally:
            stop_server(server)
        explain(engine, client_id, now)
        engine.dispose()


if __name__ == "__main__":
    main()
