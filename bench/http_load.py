"""wrk load benchmark of the agent hot path against a real ``spotopt serve`` process.

Steps: install wrk when missing (Debian: ``apt-get install -y wrk``; a clear failure otherwise), start
``spotopt serve`` (background jobs off, agent rate limit lifted) against ``--database-url`` (MariaDB/MySQL) or a
fresh embedded SQLite file, register ``--agents`` agents through A1, then run wrk with ``bench/wrk/agent.lua``
(requests spread over the agents, the client token, the agent v4 bodies) for the heartbeat (A2), the pricing
report with 6 pools (A6) and ``GET /health`` at each connection count, ``--reps`` times, ``--duration`` seconds
each; then the 1-connection heartbeat and a paced heartbeat run (wrk2 is not packaged: pacing by the Lua
``delay()`` hook, see the script). Around every run it reads utime+stime from /proc for the server's whole process
tree and for ``mariadbd`` and reports CPU per request. MariaDB is shared with other work, so "DB CPU" counts only
the MariaDB threads that served the benchmark database's connections during the run (PROCESSLIST ``TID`` →
/proc task stat); the whole of ``mariadbd`` is shown as an upper bound. Medians of the repetitions. Prints markdown (machine, date, versions, exact commands) and writes JSON with every run.

``--profile`` samples the server with py-spy (installed into .tools/bench by pip when missing) during an extra
16-connection heartbeat run and prints the top self-time entries. Sends traffic to 127.0.0.1 only.
"""

# ruff: noqa: S603 - a benchmark runs local tools (wrk, git, lscpu, spotopt) by design
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_support import (
    ROOT,
    DatabaseThreads,
    cpu_seconds,
    database_label,
    load_average,
    machine,
    mariadb_pids,
    process_tree,
    register_agents,
    start_server,
    stop_server,
    versions,
)

LUA = ROOT / "bench" / "wrk" / "agent.lua"
ROUTES = {"heartbeat": "heartbeat (A2)", "pricing": "pricing report, 6 pools (A6)", "health": "GET /health (H1)"}


@dataclass
class Run:
    route: str
    connections: int
    threads: int
    rate: int
    command: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    statuses: dict[str, int]
    socket_errors: dict[str, int]
    server_cpu_ms: float
    db_cpu_ms: float
    mariadbd_cpu_ms: float
    load_before: str
    load_after: str
    extra: dict[str, Any] = field(default_factory=dict)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        sys.exit(
            "wrk is not installed and cannot be installed here (needs Debian apt-get as root): apt-get install wrk"
        )
    print("# installing wrk: apt-get install -y wrk", flush=True)
    if subprocess.run([apt, "install", "-y", "-q", "wrk"], check=False).returncode != 0:
        subprocess.run([apt, "update", "-q"], check=False)
        if subprocess.run([apt, "install", "-y", "-q", "wrk"], check=False).returncode != 0:
            sys.exit("apt-get install -y wrk failed; install wrk by hand and rerun")
    found = shutil.which("wrk")
    if found is None:
        sys.exit("wrk still not found after apt-get install")
    return found


def wrk_run(
    wrk: str, base: str, route: str, connections: int, seconds: int, env: dict[str, str], rate: int = 0
) -> tuple[str, dict[str, Any]]:
    threads = min(2, connections)
    run_env = {**os.environ, **env, "WRK_ROUTE": route, "WRK_RATE": str(rate), "WRK_THREADS": str(threads)}
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(LUA), base]
    shown = f"WRK_ROUTE={route} WRK_RATE={rate} WRK_THREADS={threads} WRK_AGENTS=<agents file> WRK_TOKEN=<token> " + (
        " ".join(["wrk", *argv[1:-3], "bench/wrk/agent.lua", base])
    )
    done = subprocess.run(argv, env=run_env, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    return shown, json.loads(line[len("WRK_JSON ") :])


def measured(
    wrk: str,
    base: str,
    route: str,
    connections: int,
    seconds: int,
    env: dict[str, str],
    server_pid: int,
    database_url: str | None,
    *,
    rate: int = 0,
) -> Run:
    time.sleep(1)  # let the previous run's queue drain
    db, ours = mariadb_pids(), DatabaseThreads(database_url)
    load_before = load_average()
    tree = process_tree(server_pid)
    server_0, db_0 = cpu_seconds(tree), cpu_seconds(db)
    ours.start()
    command, result = wrk_run(wrk, base, route, connections, seconds, env, rate)
    db_ours = ours.cpu_seconds()
    tree = process_tree(server_pid) | tree
    server_cpu, db_cpu = cpu_seconds(tree) - server_0, cpu_seconds(db) - db_0
    n = max(1, result["requests"])
    ok = sum(count for code, count in result["statuses"].items() if 200 <= int(code) < 300)
    latency = result["latency_us"]
    return Run(
        route=route,
        connections=connections,
        threads=min(2, connections),
        rate=rate,
        command=command,
        requests=result["requests"],
        seconds=result["duration_us"] / 1e6,
        rps=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        non_2xx=result["requests"] - ok,
        statuses=result["statuses"],
        socket_errors={k: v for k, v in result["errors"].items() if v},
        server_cpu_ms=server_cpu * 1000 / n,
        db_cpu_ms=db_ours * 1000 / n,
        mariadbd_cpu_ms=db_cpu * 1000 / n if db and database_url else 0.0,
        load_before=load_before,
        load_after=load_average(),
    )


def median_of(runs: list[Run]) -> dict[str, float]:
    keys = ("rps", "p50_ms", "p99_ms", "max_ms", "server_cpu_ms", "db_cpu_ms", "mariadbd_cpu_ms")
    return {key: statistics.median(getattr(r, key) for r in runs) for key in keys} | {
        "non_2xx": sum(r.non_2xx for r in runs),
        "requests": sum(r.requests for r in runs),
    }


def table(groups: dict[str, list[Run]]) -> list[str]:
    lines = [
        "| route | connections | req/s | p50 ms | p99 ms | max ms | non-2xx (all runs) | server CPU ms/req | "
        "DB CPU ms/req | server + DB ms/req | all of mariadbd ms/req |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, runs in groups.items():
        m = median_of(runs)
        first = runs[0]
        conns = f"{first.connections}" + (f", paced {first.rate}/s" if first.rate else "")
        non2xx = f"{m['non_2xx']:,.0f} of {m['requests']:,.0f}"
        statuses = sorted({code for r in runs for code in r.statuses if not 200 <= int(code) < 300})
        if statuses:
            non2xx += " (" + ", ".join(statuses) + ")"
        lines.append(
            f"| {label} | {conns} | {m['rps']:,.0f} | {m['p50_ms']:.1f} | {m['p99_ms']:.1f} | {m['max_ms']:.0f} | "
            f"{non2xx} | {m['server_cpu_ms']:.2f} | {m['db_cpu_ms']:.2f} | "
            f"{m['server_cpu_ms'] + m['db_cpu_ms']:.2f} | {m['mariadbd_cpu_ms']:.2f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--connections", default="16,64,256")
    parser.add_argument("--routes", default="heartbeat,pricing,health")
    parser.add_argument("--paced-rate", type=int, default=1000, help="0 skips the paced run")
    parser.add_argument("--serve-args", default="", help="extra arguments for `spotopt serve` (e.g. --workers 2)")
    parser.add_argument("--json", type=Path, default=None, help="write every run as JSON")
    parser.add_argument("--profile", action="store_true", help="py-spy profile of a 16-connection heartbeat run")
    args = parser.parse_args()
    wrk = ensure_wrk()
    started = datetime.now(UTC)
    args.versions = versions(args.database_url)  # before the runs: the code that was measured
    with tempfile.TemporaryDirectory(prefix="spotopt-bench-") as tmp:
        server, base, admin = start_server(args.database_url, Path(tmp), args.serve_args.split())
        try:
            token, agents = register_agents(base, admin, args.agents)
            agents_file = Path(tmp) / "agents.txt"
            agents_file.write_text("".join(f"{a} {i}\n" for a, i in agents))
            env = {"WRK_AGENTS": str(agents_file), "WRK_TOKEN": token}
            for route in args.routes.split(","):  # warm-up: compiled statements, caches, pool
                wrk_run(wrk, base, route, 16, 3, env)
            groups: dict[str, list[Run]] = {}
            for route in args.routes.split(","):
                for connections in (int(c) for c in args.connections.split(",")):
                    key = f"{ROUTES[route]}"
                    runs = [
                        measured(wrk, base, route, connections, args.duration, env, server.pid, args.database_url)
                        for _ in range(args.reps)
                    ]
                    groups[f"{key} @{connections}"] = runs
            if "heartbeat" in args.routes:
                groups["heartbeat (A2) @1"] = [
                    measured(wrk, base, "heartbeat", 1, args.duration, env, server.pid, args.database_url)
                    for _ in range(args.reps)
                ]
                if rate := args.paced_rate:
                    groups[f"heartbeat (A2) paced {args.paced_rate}/s"] = [
                        measured(
                            wrk, base, "heartbeat", 64, args.duration, env, server.pid, args.database_url, rate=rate
                        )
                        for _ in range(args.reps)
                    ]
            profile = None
            if args.profile:
                from profile_server import profile_heartbeat

                profile = profile_heartbeat(server.pid, lambda: wrk_run(wrk, base, "heartbeat", 16, 14, env))
        finally:
            stop_server(server)
    report(args, started, groups, profile)


def report(args: argparse.Namespace, started: datetime, groups: dict[str, list[Run]], profile: str | None) -> None:
    header = [
        f"# http_load {started:%Y-%m-%d %H:%M} UTC — {machine()}",
        f"# versions: {args.versions}",
        f"# database: {database_label(args.database_url)}; server: `spotopt serve {args.serve_args}`".rstrip()
        + " (ENABLE_BACKGROUND_JOBS=false, SPOTOPT_AGENT_RATE_LIMIT=1000000000)",
        f"# {args.agents} agents, {args.duration} s runs, {args.reps} repetitions (medians), wrk -t min(2, c)",
        f"# command: {' '.join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])}",
        "# load average before/after each run: "
        + "; ".join(f"{r.load_before} → {r.load_after}" for runs in groups.values() for r in runs[:1]),
    ]
    print("\n".join([*header, "", *table(groups)]))
    print("\nwrk commands:")
    for runs in groups.values():
        print(f"    {runs[0].command}")
    if profile:
        print("\n" + profile)
    if args.json is not None:
        payload = {"started": started.isoformat(), "machine": machine(), "versions": args.versions}
        payload["groups"] = {label: [asdict(r) for r in runs] for label, runs in groups.items()}
        payload["profile"] = profile
        args.json.write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
