"""``spotopt replay`` end to end: on a synthetic trace folder, and a small smoke run on the real trace."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from spotopt.entrypoints.cli.main import cli
from tests.shared_data import require_shared_file


def write_market(folder: Path) -> tuple[Path, Path]:
    traces = folder / "traces"
    traces.mkdir()
    for zone, flags in {"us-east-1a": [1, 1, 0, 0, 1, 1] * 20, "us-east-1b": [1, 0, 1, 1, 1, 1] * 20}.items():
        (traces / f"{zone}_v100_1.json").write_text(json.dumps({"metadata": {"gap_seconds": 60}, "data": flags}))
    prices = folder / "prices.json"
    prices.write_text(json.dumps({"us-east": {"p3.2xlarge": {"Linux": "0.918", "Windows": "N/A*"}}}))
    return traces, prices


def test_replay_prints_one_table_per_cold_start(tmp_path: Path) -> None:
    traces, prices = write_market(tmp_path)
    policy = tmp_path / "bench.json"
    policy.write_text(json.dumps({"engine_kind": "rules", "blocklist_hours": 1}))
    args = ["replay", "--traces", str(traces), "--prices", str(prices), "--cold-start", "2", "--cold-start", "1"]
    result = CliRunner().invoke(cli, [*args, "--policy", str(policy), "--standby-hours", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.count("| on-demand only | 100.000 | 100.00 |") == 2
    assert "spotopt rules, spec defaults" in result.output
    assert "spotopt rules, bench + RP-11 1 h" in result.output
    assert "oracle (perfect foresight)" in result.output


def test_replay_names_a_bad_trace_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["replay", "--traces", str(tmp_path), "--prices", str(tmp_path / "x.json")])
    assert result.exit_code == 2
    assert "error:" in result.output


def test_smoke_one_day_of_the_real_nine_zone_trace() -> None:
    trace = require_shared_file("spot-traces/availability/1-node/aws-02-15-2023/us-west-2b_v100_1.json")
    prices = require_shared_file("spot-prices/spot-price-data-2022-07-23.json")
    args = ["replay", "--traces", str(trace.parent), "--prices", str(prices), "--days", "1", "--cold-start", "10"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "9 zones, 1.0 days" in result.output
    assert "| oracle (perfect foresight) | 100.000 |" in result.output
