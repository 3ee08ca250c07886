"""``spotopt simulate`` end to end: the server (given, or an embedded one), the fleet, the summary, the audit."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spotopt.entrypoints.simulator.fleet import FleetOptions, run_fleet
from spotopt.entrypoints.simulator.reconcile import Reconciliation, reconcile
from spotopt.entrypoints.simulator.server import embedded_server
from spotopt.entrypoints.simulator.summary import render


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RunRequest:
    options: FleetOptions  # ``server``/``admin_token`` empty: start an embedded server
    check: bool = False  # reconcile the acknowledged writes with the database after the run
    database_url: str | None = None  # the server's database, for ``check`` against a given server
    json_path: Path | None = None
    echo: Callable[[str], None] = print


def simulate(request: RunRequest) -> tuple[dict[str, Any], Reconciliation | None]:
    with tempfile.TemporaryDirectory(prefix="spotopt-fleet-") as tmp:
        options = request.options
        if request.check and options.acked_path is None:
            options = dataclasses.replace(options, acked_path=Path(tmp) / "acked.jsonl")
        if options.server:
            return _run(request, options, request.database_url)
        with embedded_server() as server:
            request.echo(f"embedded server {server.url} (pid {server.pid}, log {server.log})")
            options = dataclasses.replace(options, server=server.url, admin_token=server.admin_token)
            return _run(request, options, server.database_url)


def _run(
    request: RunRequest, options: FleetOptions, database_url: str | None
) -> tuple[dict[str, Any], Reconciliation | None]:
    summary = asyncio.run(run_fleet(options))
    request.echo(render(summary))
    outcome = None
    if request.check:
        if database_url is None or options.acked_path is None:
            raise ValueError("--check against a given --server needs --database-url")
        outcome = asyncio.run(reconcile(options.acked_path, database_url))
        summary["reconciliation"] = {
            "ok": outcome.ok,
            "checked": dict(outcome.checked),
            "missing": outcome.missing[:50],
        }
        request.echo(outcome.report())
    if request.json_path is not None:
        request.json_path.write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    return summary, outcome
