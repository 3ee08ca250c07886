"""``spotopt replay``: spotopt's policy and the simple ones on a simulated market built from real spot traces."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import click

from spotopt.domain.shared.errors import DomainError
from spotopt.domain.shared.pools import region_of_az
from spotopt.entrypoints.replay.catboost_row import CatBoostFactory
from spotopt.entrypoints.replay.cloud import CloudSettings
from spotopt.entrypoints.replay.market import P3_2XLARGE_ONDEMAND, MarketDataError, load_market, load_spot_prices
from spotopt.entrypoints.replay.results import table
from spotopt.entrypoints.replay.runner import TRACE_EPOCH, ReplayRun, TunedSpotopt, policy_from_file, replay, window

DATA_ENV = "SPOTOPT_SHARED_DATA"
TRACES = "spot-traces/availability/1-node/aws-02-15-2023"
PRICES = "spot-prices/spot-price-data-2022-07-23.json"


def _data_dir() -> Path:
    return Path(os.environ.get(DATA_ENV, "../shared/data"))


@click.command("replay")
@click.option("--traces", type=click.Path(path_type=Path), default=None, help=f"Trace folder (default $DATA/{TRACES}).")
@click.option("--prices", type=click.Path(path_type=Path), default=None, help=f"Spot price snapshot ($DATA/{PRICES}).")
@click.option("--ondemand-price", type=Decimal, default=P3_2XLARGE_ONDEMAND, show_default=True, help="$/h baseline.")
@click.option("--cold-start", "cold_starts", type=int, multiple=True, default=(10, 2), show_default=True,
              help="Minutes before a new instance serves; repeat for several tables.")  # fmt: skip
@click.option("--notices/--no-notices", default=True, show_default=True, help="Deliver 2-minute termination notices.")
@click.option("--rebalance-minutes", type=int, default=None, help="Rebalance recommendation lead (default: none).")
@click.option("--policy", "policy_file", type=click.Path(exists=True, path_type=Path), default=None,
              help="Policy document (M18 JSON) for the tuned spotopt rows.")  # fmt: skip
@click.option("--standby-hours", type=Decimal, default=Decimal(0), show_default=True,
              help="RP-11: hold a precautionary standby this long after every new spot placement (tuned rows).")  # fmt: skip
@click.option("--fleet-view/--own-view", default=False, show_default=True,
              help="Tuned rows also run with fleet statistics from every zone's capacity drops.")  # fmt: skip
@click.option("--catboost/--no-catboost", default=False, show_default=True,
              help="Add the CatBoost engine rows (a risk model trained on trace data before the window) to the tuned rows.")  # fmt: skip
@click.option("--region", default=None, help="Only the zones of this region.")
@click.option("--start-day", type=float, default=0.0, show_default=True, help="Replay from this day of the trace.")
@click.option("--days", type=float, default=None, help="Replay this many days (default: to the end).")
@click.option("--seed", type=int, default=0, show_default=True, help="Tie-break seed of the greedy baselines.")
@click.option("--step", type=int, default=15, show_default=True, help="Simulation step in seconds.")
def replay_command(
    *,
    traces: Path | None,
    prices: Path | None,
    ondemand_price: Decimal,
    cold_starts: tuple[int, ...],
    notices: bool,
    rebalance_minutes: int | None,
    policy_file: Path | None,
    standby_hours: Decimal,
    fleet_view: bool,
    catboost: bool,
    region: str | None,
    start_day: float,
    days: float | None,
    seed: int,
    step: int,
) -> None:
    """Replay real spot traces: availability, cost, preemptions, migrations and outage per policy (markdown)."""
    data = _data_dir()
    traces, prices = traces or data / TRACES, prices or data / PRICES
    try:
        market = load_market(traces, load_spot_prices(prices, "p3.2xlarge"), ondemand_price=ondemand_price)
        if region is not None:
            market = market.only([z for z in market.zone_names if region_of_az(z) == region])
        market, history, epoch = window(market, start_day, days)
        tuned = _tuned(policy_file, standby_hours, fleet_view)
    except (MarketDataError, DomainError, ValueError, StopIteration) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"# spotopt replay — {datetime.now(UTC).date()} on {platform.machine()} ({os.cpu_count()} cores)\n")
    click.echo(f"market: {traces} ({len(market.zones)} zones, {market.duration / 86400:.1f} days from {epoch:%Y-%m-%d}, "
               f"tick {market.gap_seconds} s); spot prices {prices}; on-demand ${ondemand_price}/h")  # fmt: skip
    for minutes in cold_starts:
        settings = CloudSettings(
            cold_start=minutes * 60,
            notices=notices,
            rebalance_seconds=rebalance_minutes * 60 if rebalance_minutes else None,
            step=step,
        )
        factory = _catboost_factory(data, tuned) if catboost else None
        run = ReplayRun(market, settings, epoch=epoch, history=history, tuned=tuned, seed=seed, catboost=factory)
        rebalance = f"rebalance {rebalance_minutes} min ahead" if rebalance_minutes else "no rebalance signals"
        click.echo(f"\n## cold start {minutes} min, notices {'on' if notices else 'off'}, {rebalance}\n")
        click.echo(table(replay(run)))
        if factory is not None:
            click.echo(f"\nCatBoost: {factory.note()}")


def _catboost_factory(data: Path, tuned: tuple[TunedSpotopt, ...]) -> CatBoostFactory | None:
    if not tuned:
        click.echo("error: --catboost needs the tuned rows (--policy or --standby-hours)", err=True)
        sys.exit(2)
    return CatBoostFactory(data, tuned[0].policy, TRACE_EPOCH)


def _tuned(policy_file: Path | None, standby_hours: Decimal, fleet_view: bool) -> tuple[TunedSpotopt, ...]:
    if policy_file is None and standby_hours == 0:
        return ()
    from spotopt.domain.decisions.policy import PolicyDocument  # noqa: PLC0415

    policy = policy_from_file(policy_file) if policy_file is not None else PolicyDocument()
    label = f"{policy.policy_version} + RP-11 {standby_hours} h"
    rows = [TunedSpotopt(policy, label, standby_hours)]
    if fleet_view:
        rows.append(TunedSpotopt(policy, f"{label}, fleet view", standby_hours, fleet_view=True))
    return tuple(rows)
