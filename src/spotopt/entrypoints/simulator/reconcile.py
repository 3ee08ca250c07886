"""Reconciliation: does the database hold every write the server acknowledged to the simulated fleet?

It reads the simulator's acknowledged-writes file and audits the database with plain SQL, deliberately not
through the repositories under test (a lost write must not hide behind the code that lost it). Checks:
registrations (agent row), pricing reports (report row), acks (the command has the acknowledged status), switch
reports (switch row), replica attach (the replica holds the instance id), replica ready (``ready_at`` set),
committed failovers (``promoted_at`` set), and heartbeats (the primary's ``last_heartbeat_at`` is at least the
send time of the last heartbeat acknowledged from that instance).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

CHUNK = 500


@dataclass(slots=True)
class Reconciliation:
    checked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing

    def report(self) -> str:
        counts = ", ".join(f"{kind} {n:,}" for kind, n in sorted(self.checked.items()))
        head = f"reconciled {sum(self.checked.values()):,} acknowledged writes ({counts}): "
        if self.ok:
            return head + "all present"
        return head + f"{len(self.missing):,} NOT in the database:\n" + "\n".join(self.missing[:50])


def read_acks(path: Path) -> dict[str, list[dict[str, Any]]]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                entry = json.loads(line)
                by_kind[entry["kind"]].append(entry)
    return by_kind


def _utc(value: object) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def _rows(conn: AsyncConnection, sql: str, ids: Iterable[str]) -> dict[str, Sequence[Any]]:
    """``sql`` selects the key first, filtered by ``IN :ids``; rows by key."""
    statement = text(sql).bindparams(bindparam("ids", expanding=True))
    found: dict[str, Sequence[Any]] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        result = await conn.execute(statement, {"ids": unique[start : start + CHUNK]})
        found.update({str(row[0]): tuple(row) for row in result})
    return found


async def reconcile(acks_path: Path, database_url: str) -> Reconciliation:
    acks = read_acks(acks_path)
    outcome = Reconciliation()
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            await _check_rows(conn, acks, outcome)
            await _check_heartbeats(conn, acks.get("heartbeat", []), outcome)
    finally:
        await engine.dispose()
    return outcome


async def _check_rows(conn: AsyncConnection, acks: dict[str, list[dict[str, Any]]], outcome: Reconciliation) -> None:
    checks: list[tuple[str, str, str, Any]] = [
        ("register", "agent_id", "SELECT agent_id FROM agents WHERE agent_id IN :ids", None),
        ("pricing_report", "report_id", "SELECT report_id FROM pricing_reports WHERE report_id IN :ids", None),
        ("ack", "command_id", "SELECT command_id, status FROM commands WHERE command_id IN :ids", "status"),
        ("switch", "switch_id", "SELECT switch_id FROM switches WHERE switch_id IN :ids", None),
        ("replica_attached", "replica_id", "SELECT replica_id, instance_id FROM replicas WHERE replica_id IN :ids", "instance_id"),
        ("replica_ready", "replica_id", "SELECT replica_id, ready_at FROM replicas WHERE replica_id IN :ids", "set"),
        ("failover", "replica_id", "SELECT replica_id, promoted_at FROM replicas WHERE replica_id IN :ids", "set"),
    ]  # fmt: skip
    for kind, key, sql, expect in checks:
        entries = [e for e in acks.get(kind, []) if isinstance(e.get(key), str)]
        rows = await _rows(conn, sql, (e[key] for e in entries))
        for entry in entries:
            outcome.checked[kind] += 1
            row = rows.get(entry[key])
            if row is None:
                outcome.missing.append(f"{kind} {key}={entry[key]} (agent {entry.get('agent_id')}) has no row")
            elif expect == "set" and row[1] is None:
                outcome.missing.append(f"{kind} {key}={entry[key]}: not recorded (null)")
            elif expect not in (None, "set") and str(row[1]) != str(entry[expect]):
                outcome.missing.append(f"{kind} {key}={entry[key]}: {expect} is {row[1]}, acknowledged {entry[expect]}")


async def _check_heartbeats(conn: AsyncConnection, beats: list[dict[str, Any]], outcome: Reconciliation) -> None:
    latest: dict[tuple[str, str], datetime] = {}
    for beat in beats:
        key, sent = (beat["agent_id"], beat["instance_id"]), _utc(beat["sent_at"])
        if sent is not None and (key not in latest or sent > latest[key]):
            latest[key] = sent
    sql = "SELECT agent_id, primary_instance_id, last_heartbeat_at FROM agents WHERE agent_id IN :ids"
    rows = await _rows(conn, sql, (agent for agent, _ in latest))
    for (agent_id, instance_id), sent in latest.items():
        row = rows.get(agent_id)
        if row is None or row[1] != instance_id:
            continue  # heartbeats naming a non-primary instance only touch that instance (H-2)
        outcome.checked["heartbeat"] += 1
        stored = _utc(row[2])
        if stored is None or stored < sent:
            outcome.missing.append(f"heartbeat agent {agent_id}: last_heartbeat_at {stored} < acknowledged {sent}")
