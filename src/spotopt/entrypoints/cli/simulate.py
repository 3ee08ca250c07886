"""``spotopt simulate``: a fleet of simulated agent v4 processes against a server (see docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path

import click

from spotopt.bootstrap.settings import Settings


@click.command()
@click.option("--agents", type=click.IntRange(1), default=20, show_default=True, help="Simulated agents.")
@click.option("--server", default=None, help="Base URL of a running server; default: start an embedded one.")
@click.option("--admin-token", envvar="SPOTOPT_ADMIN_TOKEN", default=None, help="Admin token of --server (M1).")
@click.option("--duration", type=float, default=120.0, show_default=True, help="Wall seconds the fleet runs.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--speed", type=click.FloatRange(min=0.01), default=1.0, show_default=True, help="Time compression.")
@click.option("--concurrency", type=click.IntRange(1), default=256, show_default=True, help="Calls in flight.")
@click.option("--agents-per-client", type=click.IntRange(1), default=None, help="Default: 50 / speed (W09).")
@click.option("--ramp", type=float, default=60.0, show_default=True, help="Wall seconds over which agents start.")
@click.option("--storm-at", type=float, default=None, help="Reconnect storm: every agent restarts at this second.")
@click.option("--storm-window", type=float, default=10.0, show_default=True)
@click.option("--burst-at", type=float, default=None, help="Interruption burst in one pool at this second.")
@click.option("--burst-agents", type=click.IntRange(1), default=500, show_default=True)
@click.option("--burst-window", type=float, default=180.0, show_default=True)
@click.option("--burst-pool", default=None, help="Pool of the burst; default: the most crowded.")
@click.option("--interruption-rate", type=float, default=0.0, show_default=True, help="Per agent-hour (simulated).")
@click.option("--launch-failure-rate", type=float, default=0.02, show_default=True)
@click.option("--pricing-interval", type=float, default=1200.0, show_default=True, help="PRICING_REPORT_INTERVAL.")
@click.option("--acked", type=click.Path(path_type=Path), default=None, help="Write acknowledged writes (JSONL).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None, help="Write the summary JSON.")
@click.option("--check", is_flag=True, help="Reconcile acknowledged writes with the database after the run.")
@click.option("--database-url", default=None, help="Database of --server for --check/--reconcile.")
@click.option("--reconcile", "reconcile_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="Only reconcile an earlier run's --acked file with --database-url, then exit.")  # fmt: skip
@click.option("--narrate", is_flag=True, help="Print what happens (registrations, interruptions, failovers).")
def simulate(
    *,
    agents: int,
    server: str | None,
    admin_token: str | None,
    duration: float,
    seed: int,
    speed: float,
    concurrency: int,
    agents_per_client: int | None,
    ramp: float,
    storm_at: float | None,
    storm_window: float,
    burst_at: float | None,
    burst_agents: int,
    burst_window: float,
    burst_pool: str | None,
    interruption_rate: float,
    launch_failure_rate: float,
    pricing_interval: float,
    acked: Path | None,
    json_path: Path | None,
    check: bool,
    database_url: str | None,
    reconcile_path: Path | None,
    narrate: bool,
) -> None:
    """Run N simulated agent v4 processes: register, heartbeat, poll, config, pricing, switches, replicas,
    interruptions; print requests by route, errors by status, failovers, p50/p99 per route.
    """
    from spotopt.entrypoints.simulator.context import Cadence  # noqa: PLC0415 - httpx only when simulating
    from spotopt.entrypoints.simulator.fleet import FleetOptions  # noqa: PLC0415
    from spotopt.entrypoints.simulator.reconcile import reconcile  # noqa: PLC0415
    from spotopt.entrypoints.simulator.run import RunRequest  # noqa: PLC0415
    from spotopt.entrypoints.simulator.run import simulate as run  # noqa: PLC0415

    audited = database_url or Settings.from_env().database_url
    if reconcile_path is not None:
        outcome = asyncio.run(reconcile(reconcile_path, audited))
        click.echo(outcome.report())
        sys.exit(0 if outcome.ok else 1)
    if server and not admin_token:
        raise click.UsageError("--server needs --admin-token (or SPOTOPT_ADMIN_TOKEN) to create the fleet's clients")
    options = FleetOptions(
        agents=agents,
        server=server or "",
        admin_token=admin_token or "",
        duration=duration,
        seed=seed,
        speed=speed,
        concurrency=concurrency,
        agents_per_client=agents_per_client,
        ramp=ramp,
        storm_at=storm_at,
        storm_window=storm_window,
        burst_at=burst_at,
        burst_agents=burst_agents,
        burst_window=burst_window,
        burst_pool=burst_pool,
        interruption_rate=interruption_rate,
        launch_failure_rate=launch_failure_rate,
        cadence=dataclasses.replace(Cadence(), pricing=pricing_interval),
        acked_path=acked,
        narrate=click.echo if narrate else None,
    )
    request = RunRequest(
        options=options, check=check, database_url=audited if server else None, json_path=json_path, echo=click.echo
    )
    summary, audit = run(request)
    sys.exit(1 if summary["simulator_failure_count"] or (audit is not None and not audit.ok) else 0)
