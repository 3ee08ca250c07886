from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.fakes.clients import StubTokenHasher
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork

settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork()


@pytest.fixture
def hasher() -> StubTokenHasher:
    return StubTokenHasher()
