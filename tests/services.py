"""Where the tests find real services: env URLs first, else the embedded ones; under CI=true, never skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI") == "true"


def test_database_url(tmp_path: Path) -> str:
    url = os.environ.get("SPOTOPT_TEST_DATABASE_URL")
    if url:
        return url
    if IN_CI:
        pytest.fail("CI=true requires SPOTOPT_TEST_DATABASE_URL (MariaDB); refusing to fall back to SQLite")
    return f"sqlite+aiosqlite:///{tmp_path / 'spotopt-test.db'}"


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'spotopt.db'}"


def test_redis_url() -> str | None:
    """``SPOTOPT_TEST_REDIS_URL``, else None (the caller starts an embedded Valkey); under CI=true, never None."""
    url = os.environ.get("SPOTOPT_TEST_REDIS_URL")
    if url:
        return url
    if IN_CI:
        pytest.fail("CI=true requires SPOTOPT_TEST_REDIS_URL (Redis); refusing to fall back to an embedded Valkey")
    return None
