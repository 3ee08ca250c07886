"""The ``spotopt`` command line: serve, worker, db, admin."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from spotopt.application.clients.create_client import CreateClient, CreateClientCommand
from spotopt.application.notifications.configure_webhook import ConfigureWebhook, ConfigureWebhookCommand
from spotopt.application.system.create_admin_token import CreateAdminToken
from spotopt.bootstrap.container import make_container
from spotopt.bootstrap.database import downgrade_database, new_migration, upgrade_database
from spotopt.bootstrap.settings import Settings
from spotopt.domain.shared.errors import DomainError
from spotopt.entrypoints.cli.replay import replay_command
from spotopt.entrypoints.cli.simulate import simulate
from spotopt.entrypoints.running import run_in_new_scope

U = TypeVar("U")
R = TypeVar("R")


async def run_command(settings: Settings, use_case: type[U], call: Callable[[U], Awaitable[R]]) -> R:
    """Build the container, run the use case in one REQUEST scope under the retry rule (CC-5), close everything."""
    container = make_container(settings)
    try:
        return await run_in_new_scope(container, use_case, call)
    finally:
        await container.close()


@click.group()
def cli() -> None:
    """Spotopt — central server of the spot-instance optimizer."""


@cli.command()
@click.option("--host", default=None, help="Bind address (env HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (env PORT, default 5000).")
def serve(host: str | None, port: int | None) -> None:
    """Run the HTTP API (embedded SQLite and job worker when no database/Redis is configured)."""
    from spotopt.entrypoints.cli.serve import run_server  # noqa: PLC0415 - imports uvicorn only when serving

    run_server(Settings.from_env(), host=host, port=port)


@cli.command()
@click.option("--concurrency", type=int, default=None, help="Jobs one worker runs at a time (default 4).")
def worker(concurrency: int | None) -> None:
    """Run background jobs from REDIS_URL; start as many as needed, each tick still runs once (JB-1)."""
    from spotopt.entrypoints.cli.worker import run_worker_process  # noqa: PLC0415 - imports SAQ only when working

    run_worker_process(Settings.from_env(), concurrency=concurrency)


@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default head)."""
    upgrade_database(Settings.from_env(), revision)
    click.echo("database is at " + revision)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    downgrade_database(Settings.from_env(), revision)


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the table declarations."""
    new_migration(Settings.from_env(), message)


@cli.group()
def admin() -> None:
    """Administrative tasks."""


@admin.command("create-token")
def create_token() -> None:
    """Issue an admin token (shown once, stored hashed)."""
    settings = Settings.from_env()
    _ensure_schema(settings)

    result = asyncio.run(run_command(settings, CreateAdminToken, lambda uc: uc.execute()))
    click.echo(result.token)


@admin.command("create-client")
@click.option("--name", required=True)
@click.option("--email", default=None)
@click.option("--max-agents", type=int, default=5, show_default=True)
def create_client(name: str, email: str | None, max_agents: int) -> None:
    """Create a client and print its token once."""
    settings = Settings.from_env()
    _ensure_schema(settings)

    command = CreateClientCommand(name=name, email=email, max_agents=max_agents)
    try:
        result = asyncio.run(run_command(settings, CreateClient, lambda uc: uc.execute(command)))
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"client_id: {result.client.client_id}")
    click.echo(f"client_token: {result.token}")
    click.echo("Store this token now; it cannot be shown again.")


@admin.command("set-webhook")
@click.argument("client_id")
@click.argument("url", required=False)
def set_webhook(client_id: str, url: str | None) -> None:
    """Point CLIENT_ID's notification webhook at URL (a new signing secret is printed once); no URL disables it."""
    settings = Settings.from_env()
    _ensure_schema(settings)
    command = ConfigureWebhookCommand(client_id=client_id, url=url)
    try:
        result = asyncio.run(run_command(settings, ConfigureWebhook, lambda uc: uc.execute(command)))
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    if result.secret is None:
        click.echo(f"webhook disabled for client {result.client_id}")
        return
    click.echo(f"webhook_secret: {result.secret}")
    click.echo("Store this secret now; it cannot be shown again. Deliveries carry X-Spotopt-Signature: t=…,v1=….")


def _ensure_schema(settings: Settings) -> None:
    if settings.is_embedded_database and settings.auto_migrate:
        upgrade_database(settings)


cli.add_command(replay_command)
cli.add_command(simulate)

if __name__ == "__main__":  # pragma: no cover
    cli()
