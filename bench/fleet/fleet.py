"""Fleet runs for docs/benchmarks.md: ``spotopt simulate`` against a real server, with the storm and the burst.

    python bench/fleet/fleet.py embedded --agents 2000            # spotopt simulate starts an embedded server
    python bench/fleet/fleet.py mariadb --agents 10000 \\
        --database-url mysql+asyncmy://root@127.0.0.1:3306/spotopt_bench --redis-url redis://127.0.0.1:6379/5

``mariadb`` starts ``spotopt serve`` (DATABASE_URL, REDIS_URL) and one ``spotopt worker`` (the background jobs,
JB-1), waits for /health, runs the simulator with ``--check`` (reconciliation), and reports the server's and
MariaDB's CPU over the run from /proc. Both write ``<out>/<name>.json`` (default ``data/fleet/``: the simulator
summary plus the CPU figures) and print the summary; ``bench/fleet/summarize.py data/fleet/*.json`` turns the JSON
files into the markdown of the doc.
Every other option is passed to ``spotopt simulate`` (see ``spotopt simulate --help``).
"""

# ruff: noqa: S603 - a benchmark runs local tools by design
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_support import (
    ADMIN,
    DatabaseThreads,
    cpu_seconds,
    free_port,
    load_average,
    machine,
    mariadb_pids,
    spotopt_command,
    stop_server,
    versions,
)

SCENARIO = ["--duration", "420", "--ramp", "90", "--storm-at", "150", "--burst-at", "210", "--interruption-rate", "0.5"]


def stack_env(database_url: str, redis_url: str, data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SPOTOPT_ADMIN_TOKEN": ADMIN,
        "SPOTOPT_DATA_DIR": str(data),
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }


def start_mariadb_stack(env: dict[str, str], data: Path) -> tuple[list[subprocess.Popen[bytes]], str]:
    log = (data / "server.log").open("wb")
    server = subprocess.Popen([*spotopt_command(), "serve"], env=env, stdout=log, stderr=log)
    worker_log = (data / "worker.log").open("wb")
    worker = subprocess.Popen([*spotopt_command(), "worker"], env=env, stdout=worker_log, stderr=worker_log)
    base = f"http://127.0.0.1:{env['PORT']}"

    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError((data / "server.log").read_text()[-3000:])
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code in (200, 503):
                return [server, worker], base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["embedded", "mariadb"])
    parser.add_argument("--database-url", default="mysql+asyncmy://root@127.0.0.1:3306/spotopt_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--out", type=Path, default=Path("data/fleet"))
    parser.add_argument("--name", default=None)
    args, simulate_args = parser.parse_known_args()
    if "--agents" not in simulate_args:
        simulate_args += ["--agents", "2000" if args.mode == "embedded" else "10000"]
    given = {a for a in simulate_args if a.startswith("--")}
    for k in range(0, len(SCENARIO), 2):
        if SCENARIO[k] not in given:
            simulate_args += SCENARIO[k : k + 2]
    args.out.mkdir(parents=True, exist_ok=True)
    agents = simulate_args[simulate_args.index("--agents") + 1]
    name = args.name or f"{args.mode}-{agents}"
    summary_path = args.out / f"{name}.json"
    command = [*spotopt_command(), "simulate", *simulate_args, "--json", str(summary_path), "--check"]
    record: dict[str, object] = {
        "machine": machine(),
        "versions": versions(args.database_url),
        "load_before": load_average(),
    }
    with tempfile.TemporaryDirectory(prefix="spotopt-fleet-") as tmp:
        stack: list[subprocess.Popen[bytes]] = []
        env = dict(os.environ)
        if args.mode == "mariadb":
            env = stack_env(args.database_url, args.redis_url, Path(tmp))
            subprocess.run([*spotopt_command(), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
        # Our reaped children's CPU: the simulator and, through it or directly, the server, worker and Valkey.
        children_0, db = _children_cpu(), mariadb_pids()
        db_0, ours = cpu_seconds(db), DatabaseThreads(args.database_url if args.mode == "mariadb" else None)
        ours.start()
        try:
            if args.mode == "mariadb":
                stack, base = start_mariadb_stack(env, Path(tmp))
                command += ["--server", base, "--admin-token", ADMIN, "--database-url", args.database_url]
            print("#", " ".join(command).replace(ADMIN, "<admin token>"), flush=True)
            status = subprocess.run(command, env=env, check=False).returncode
            db_cpu, db_ours = cpu_seconds(db) - db_0, ours.cpu_seconds()
        finally:
            for process in stack:
                stop_server(process)
            for log in ("server.log", "worker.log"):
                if (Path(tmp) / log).exists():
                    (args.out / f"{name}-{log}").write_bytes((Path(tmp) / log).read_bytes()[-2_000_000:])
    record |= {
        "children_cpu_seconds": _children_cpu() - children_0,
        "db_cpu_seconds": db_ours,
        "mariadbd_cpu_seconds": db_cpu,
    }
    shown = " ".join(command[1:]).replace(ADMIN, "<admin token>")
    record |= {"load_after": load_average(), "exit_status": status, "command": shown}
    if summary_path.exists():
        summary = json.loads(summary_path.read_text())
        record["server_cpu_seconds"] = record["children_cpu_seconds"] - summary["simulator_cpu_seconds"]  # type: ignore[operator]
        summary["run"] = record
        summary_path.write_text(json.dumps(summary, indent=1))
    print(json.dumps(record, indent=1))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
