"""Database maintenance for the CLI and embedded start-up (the entrypoints never import adapters)."""

from __future__ import annotations

from spotopt.adapters.persistence import migrate
from spotopt.bootstrap.settings import Settings


def upgrade_database(settings: Settings, revision: str = "head") -> None:
    if settings.is_embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url, revision)


def downgrade_database(settings: Settings, revision: str) -> None:
    migrate.downgrade(settings.database_url, revision)


def new_migration(settings: Settings, message: str) -> None:
    if settings.is_embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.revision(settings.database_url, message)
