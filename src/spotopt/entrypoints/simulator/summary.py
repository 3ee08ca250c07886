"""The summary of a fleet run: requests by route, errors by status, failovers, p50/p99 per route."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from spotopt.entrypoints.simulator.recorder import NO_ANSWER, Recorder, RouteStats

FLOW_EVENTS = (
    "agents_registered",
    "registered",
    "registration_failed",
    "process_restarts",
    "storm_restarts",
    "burst_agents",
    "rebalances_sent",
    "notices_sent",
    "failover_promoted",
    "failover_scheduled",
    "ondemand_fallback_queued",
    "no_action_possible",
    "failover_failed_other",
    "commands_executed",
    "switches_reported",
    "switch_failed",
    "acks",
    "replicas_launched",
    "replicas_ready",
    "instances_reclaimed",
    "agents_without_process",
)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least ``q`` % of the values at or below it; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def route_summary(stats: RouteStats) -> dict[str, Any]:
    ok = sum(n for status, n in stats.statuses.items() if 200 <= status < 300)
    return {
        "requests": stats.count,
        "ok": ok,
        "errors": {str(s): n for s, n in sorted(stats.statuses.items()) if not 200 <= s < 300},
        "p50_ms": percentile(stats.latencies_ms, 50),
        "p99_ms": percentile(stats.latencies_ms, 99),
        "max_ms": max(stats.latencies_ms, default=None),
        "observed_p99_ms": percentile(stats.observed_ms, 99),
    }


def errors_by_status(routes: Mapping[str, RouteStats]) -> dict[str, int]:
    total: Counter[int] = Counter()
    for stats in routes.values():
        total.update({s: n for s, n in stats.statuses.items() if not 200 <= s < 300})
    return {str(s): n for s, n in sorted(total.items())}


def build_summary(recorder: Recorder, meta: Mapping[str, Any]) -> dict[str, Any]:
    routes = {name: route_summary(stats) for name, stats in sorted(recorder.routes.items())}
    total = sum(r["requests"] for r in routes.values())
    wall = float(meta.get("wall_seconds") or 0)
    return {
        **meta,
        "requests_total": total,
        "requests_per_second": round(total / wall, 1) if wall else None,
        "routes": routes,
        "errors_by_status": errors_by_status(recorder.routes),
        "no_answer": dict(recorder.no_answer),
        "events": {name: recorder.events.get(name, 0) for name in FLOW_EVENTS},
        "failover_ms": {
            "count": len(recorder.failover_ms),
            "p50": percentile(recorder.failover_ms, 50),
            "p99": percentile(recorder.failover_ms, 99),
            "max": max(recorder.failover_ms, default=None),
        },
        "timeline": {str(k * 10): dict(v) for k, v in sorted(recorder.timeline.items())},
    }


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def render(summary: Mapping[str, Any]) -> str:
    """Markdown, ready for docs/benchmarks.md."""
    lines = [
        f"fleet: {summary['agents']:,} agents in {summary['clients']} clients, {summary['wall_seconds']:.0f} s wall, "
        f"speed ×{summary['speed']:g}, seed {summary['seed']}, concurrency {summary['concurrency']}, "
        f"server {summary['server']}",
        f"compressed: {summary['compressed']}",
        f"requests: {summary['requests_total']:,} ({summary['requests_per_second']} req/s); "
        f"simulator CPU {summary.get('simulator_cpu_seconds', 0):.0f} s; acknowledged writes {summary.get('acked', 0):,}",
        "",
        "| route | requests | 2xx | non-2xx by status | p50 ms | p99 ms | max ms | p99 incl. client wait |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, route in summary["routes"].items():
        errors = ", ".join(f"{_status(s)}: {n:,}" for s, n in route["errors"].items()) or "–"
        lines.append(
            f"| {name} | {route['requests']:,} | {route['ok']:,} | {errors} | {_ms(route['p50_ms'])} | "
            f"{_ms(route['p99_ms'])} | {_ms(route['max_ms'])} | {_ms(route['observed_p99_ms'])} |"
        )
    errors = ", ".join(f"{_status(s)}: {n:,}" for s, n in summary["errors_by_status"].items()) or "none"
    lines += ["", f"errors by status: {errors}"]
    if summary["no_answer"]:
        lines.append("no answer: " + ", ".join(f"{k}: {n:,}" for k, n in summary["no_answer"].items()))
    failover = summary["failover_ms"]
    lines.append(
        f"failovers committed (R9 success): {failover['count']:,}; server failover_ms p50 {_ms(failover['p50'])}, "
        f"p99 {_ms(failover['p99'])}, max {_ms(failover['max'])}"
    )
    events = summary["events"]
    lines.append("flows: " + ", ".join(f"{k} {v:,}" for k, v in events.items() if v))
    for note in summary.get("scenario", []):
        lines.append(f"scenario: {note}")
    return "\n".join(lines)


def _status(status: str) -> str:
    return "no answer" if status == str(NO_ANSWER) else status
