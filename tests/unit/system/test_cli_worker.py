from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from spotopt.entrypoints.cli.main import cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SPOTOPT_DATA_DIR": str(tmp_path), "REDIS_URL": "", "DATABASE_URL": "", "DB_HOST": ""}


def test_worker_without_redis_url_fails_with_a_clear_message(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["worker"], env=env)

    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output
    assert "spotopt serve" in result.output


def test_worker_refuses_to_run_when_background_jobs_are_disabled(env: dict[str, str]) -> None:
    env |= {"REDIS_URL": "redis://127.0.0.1:1/0", "ENABLE_BACKGROUND_JOBS": "false"}

    result = CliRunner().invoke(cli, ["worker"], env=env)

    assert result.exit_code == 1
    assert "ENABLE_BACKGROUND_JOBS=false" in result.output


def test_worker_is_listed_next_to_the_other_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])

    for command in ("serve", "worker", "db", "admin"):
        assert command in result.output
