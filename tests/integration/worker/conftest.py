from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import redis

from spotopt.adapters.embedded_valkey import embedded_valkey
from spotopt.bootstrap.settings import Settings
from tests import services
from tests.http_app import make_settings, reset_database


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``SPOTOPT_TEST_REDIS_URL`` (required under CI=true), else an embedded Valkey for the module."""
    url = services.test_redis_url()
    if url is not None:
        yield url
        return
    with embedded_valkey(tmp_path_factory.mktemp("valkey")) as started:
        yield started


@pytest.fixture
def job_settings(tmp_path: Path, redis_url: str) -> Iterator[Callable[..., Settings]]:
    """Settings on a fresh database with jobs enabled and a queue of this test's own (shared Redis in CI)."""
    queue_name = f"spotopt-test-{uuid4().hex[:12]}"

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "enable_background_jobs": True,
            "redis_url": redis_url,
            "job_queue_name": queue_name,
        }
        built = make_settings(services.test_database_url(tmp_path), tmp_path, **{**values, **overrides})
        reset_database(built)
        return built

    yield build
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"saq:*{queue_name}*"):
        client.delete(key)
    client.close()
