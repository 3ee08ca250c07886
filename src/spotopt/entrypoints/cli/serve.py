"""``spotopt serve``: migrate the embedded store, then run uvicorn."""

from __future__ import annotations

import logging

import click
import uvicorn

from spotopt.bootstrap.database import upgrade_database
from spotopt.bootstrap.settings import Settings
from spotopt.entrypoints.http.app import DOCS_PATH, create_app


def run_server(settings: Settings, *, host: str | None, port: int | None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if settings.is_embedded_database and settings.auto_migrate:
        upgrade_database(settings)
    bind_host = host or settings.host
    bind_port = port or settings.port
    app = create_app(settings)
    base = f"http://{bind_host}:{bind_port}"
    click.echo(f"spotopt listening on {base}")
    click.echo(f"  API docs:   {base}{DOCS_PATH}  (Swagger UI: {base}{DOCS_PATH}/swagger)")
    click.echo(f"  health:     {base}/health")
    click.echo(f"  database:   {'embedded SQLite ' + str(settings.data_dir) if settings.is_embedded_database else 'MySQL'}")
    click.echo("  get a token: spotopt admin create-client --name <name>   (or: make client NAME=<name>)")
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="info", access_log=False)
