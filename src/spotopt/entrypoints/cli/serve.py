"""``spotopt serve``: the HTTP API, and where the background jobs run.

- No ``REDIS_URL`` (embedded mode): an embedded Valkey under ``<data dir>/valkey`` and ONE job worker inside this
  process, built from the same worker settings as ``spotopt worker``.
- ``REDIS_URL`` set: the API only enqueues; run ``spotopt worker`` (one or more processes) to execute jobs. No
  in-process worker is started, so scaling the API never multiplies workers; H1 reports the real worker state
  from the job-run rows either way.
- ``ENABLE_BACKGROUND_JOBS=false``: no Valkey, no worker; H1 says ``disabled``.

SIGINT/SIGTERM stop uvicorn first, then the worker (in-flight jobs get a grace period), then Valkey.
"""

from __future__ import annotations

import asyncio
import signal
from contextlib import AsyncExitStack, ExitStack
from dataclasses import replace
from types import FrameType

import click
import uvicorn

from spotopt.bootstrap.background import VALKEY_DIR, embedded_job_store
from spotopt.bootstrap.database import upgrade_database
from spotopt.bootstrap.settings import Settings
from spotopt.entrypoints.cli.logs import configure_logging
from spotopt.entrypoints.http.app import DOCS_PATH, create_app
from spotopt.entrypoints.http.system.dashboard import DASHBOARD_PATH
from spotopt.entrypoints.worker.runtime import background_worker
from spotopt.entrypoints.worker.settings import worker_settings

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Shutdown:
    """Signal handler for the whole run: asks uvicorn to stop, so the rest shuts down in order afterwards.

    uvicorn swaps in its own handlers while serving and re-raises the signal when it is done; with the default
    handlers that re-raise would kill the process before the worker and Valkey are stopped.
    """

    def __init__(self) -> None:
        self.server: uvicorn.Server | None = None
        self.requested = False

    def __call__(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True
        if self.server is not None:
            self.server.should_exit = True


def run_server(settings: Settings, *, host: str | None, port: int | None) -> None:
    configure_logging(settings)
    if settings.is_embedded_database and settings.auto_migrate:
        upgrade_database(settings)
    bind_host, bind_port = host or settings.host, port or settings.port
    embedded_jobs = settings.enable_background_jobs and not settings.redis_url
    shutdown = _Shutdown()
    previous = {sig: signal.signal(sig, shutdown) for sig in SIGNALS}
    try:
        with ExitStack() as stack:
            if embedded_jobs:
                settings = replace(settings, redis_url=stack.enter_context(embedded_job_store(settings)))
            _banner(settings, bind_host, bind_port, embedded_jobs=embedded_jobs)
            asyncio.run(_serve(settings, bind_host, bind_port, shutdown, in_process_worker=embedded_jobs))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def _serve(settings: Settings, host: str, port: int, shutdown: _Shutdown, *, in_process_worker: bool) -> None:
    config = uvicorn.Config(create_app(settings), host=host, port=port, log_level="info", access_log=False)
    server = uvicorn.Server(config)
    shutdown.server = server
    server.should_exit = shutdown.requested
    async with AsyncExitStack() as stack:
        if in_process_worker:
            await stack.enter_async_context(background_worker(worker_settings(settings)))
        await server.serve()


def _banner(settings: Settings, host: str, port: int, *, embedded_jobs: bool) -> None:
    base = f"http://{host}:{port}"
    database = f"embedded SQLite {settings.data_dir}" if settings.is_embedded_database else "MySQL"
    if not settings.enable_background_jobs:
        jobs = "disabled (ENABLE_BACKGROUND_JOBS=false)"
    elif embedded_jobs:
        jobs = f"one in-process worker on an embedded Valkey ({settings.data_dir / VALKEY_DIR})"
    else:
        jobs = "enqueued to REDIS_URL; run `spotopt worker` to execute them"
    click.echo(f"spotopt listening on {base}")
    click.echo(f"  API docs:   {base}{DOCS_PATH}  (Swagger UI: {base}{DOCS_PATH}/swagger)")
    click.echo(f"  health:     {base}/health")
    click.echo(f"  database:   {database}")
    click.echo(f"  jobs:       {jobs}")
    if settings.enable_background_jobs:
        click.echo(
            f"  job queue:  {base}{DASHBOARD_PATH}/  (admin token: Bearer, or browser login with it as password)"
        )
    click.echo("  get a token: spotopt admin create-client --name <name>   (or: make client NAME=<name>)")
