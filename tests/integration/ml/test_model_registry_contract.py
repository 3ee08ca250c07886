"""One behaviour for every ``ModelRegistry``: the in-memory fake, the file registry and the database registry
(keeps the fake honest; the database is MariaDB when ``SPOTOPT_TEST_DATABASE_URL`` is set).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spotopt.adapters.ml.file_registry import FileModelRegistry
from spotopt.application.errors import UnavailableError
from spotopt.application.ports.decisions import ModelRegistry
from spotopt.domain.decisions.models import ModelKind, ModelStatus, ModelVersionNotFoundError
from spotopt.domain.shared.errors import RuleConflictError
from tests.fakes.decisions import InMemoryModelRegistry
from tests.integration.ml.sql_registry import sql_registry
from tests.unit.decisions.ml_helpers import manifest_for

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
RISK = ModelKind.INTERRUPTION_RISK
PRICE = ModelKind.PRICE_FORECAST

Factory = Callable[[Path], ModelRegistry]
FACTORIES: dict[str, Factory] = {"in_memory": lambda _: InMemoryModelRegistry(), "file": FileModelRegistry}


@pytest.fixture(params=[*sorted(FACTORIES), "sql"])
async def registry(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ModelRegistry]:
    if request.param != "sql":
        yield FACTORIES[request.param](tmp_path)
        return
    async with sql_registry(tmp_path) as sql:
        yield sql


async def test_candidates_are_numbered_per_kind_and_registering_again_returns_the_same_version(
    registry: ModelRegistry,
) -> None:
    first = await registry.register_candidate(manifest_for(RISK, 1), NOW)
    second = await registry.register_candidate(manifest_for(RISK, 2), NOW + timedelta(minutes=1))
    price = await registry.register_candidate(manifest_for(PRICE, 1), NOW + timedelta(minutes=2))
    assert [(v.kind, v.version, v.status) for v in (first, second, price)] == [
        (RISK, 1, ModelStatus.CANDIDATE),
        (RISK, 2, ModelStatus.CANDIDATE),
        (PRICE, 1, ModelStatus.CANDIDATE),
    ]
    assert await registry.register_candidate(manifest_for(RISK, 1), NOW + timedelta(hours=1)) == first
    assert [v.version for v in await registry.list_versions(RISK)] == [2, 1]
    assert [(v.kind, v.version) for v in await registry.list_versions()] == [(PRICE, 1), (RISK, 2), (RISK, 1)]
    assert first.manifest == manifest_for(RISK, 1)


async def test_dp20_activate_and_fall_back_are_pointer_swaps(registry: ModelRegistry) -> None:
    for n in (1, 2, 3):
        await registry.register_candidate(manifest_for(RISK, n), NOW)
    await registry.activate(RISK, 1, NOW)
    await registry.activate(RISK, 2, NOW)
    lineup = await registry.activate(RISK, 3, NOW)
    assert (lineup.live and lineup.live.version, lineup.fallback and lineup.fallback.version) == (3, 2)
    statuses = {v.version: v.status for v in await registry.list_versions(RISK)}
    assert statuses == {1: ModelStatus.RETIRED, 2: ModelStatus.FALLBACK, 3: ModelStatus.LIVE}
    lineup = await registry.fall_back(RISK, NOW)
    assert (lineup.live and lineup.live.version, lineup.fallback) == (2, None)
    live = await registry.live()
    assert live[PRICE].live is None
    risk_live = live[RISK].live
    assert risk_live is not None
    assert risk_live.version == 2
    with pytest.raises(RuleConflictError) as err:
        await registry.fall_back(RISK, NOW)
    assert err.value.code == "no_fallback"


async def test_rejected_versions_stay_out_of_service(registry: ModelRegistry) -> None:
    await registry.register_candidate(manifest_for(RISK, 1), NOW)
    rejected = await registry.reject(RISK, 1, NOW)
    assert rejected.status is ModelStatus.REJECTED
    with pytest.raises(RuleConflictError) as err:
        await registry.activate(RISK, 1, NOW)
    assert err.value.code == "session_rejected"
    with pytest.raises(ModelVersionNotFoundError):
        await registry.activate(RISK, 9, NOW)
    assert (await registry.live())[RISK].live is None


async def test_every_process_sharing_the_model_dir_sees_each_swap(tmp_path: Path) -> None:
    writer, reader = FileModelRegistry(tmp_path), FileModelRegistry(tmp_path)
    await writer.register_candidate(manifest_for(RISK, 1), NOW)
    await writer.activate(RISK, 1, NOW)
    live = (await reader.live())[RISK].live
    assert live is not None
    assert live.version == 1
    assert json.loads((tmp_path / "registry.json").read_text())["versions"][0]["status"] == "live"


async def test_an_unreadable_registry_file_is_unavailable_not_empty(tmp_path: Path) -> None:
    (tmp_path / "registry.json").write_text("{not json")
    with pytest.raises(UnavailableError):
        await FileModelRegistry(tmp_path).live()
    assert await FileModelRegistry(tmp_path / "fresh").live() == {
        RISK: (await InMemoryModelRegistry().live())[RISK],
        PRICE: (await InMemoryModelRegistry().live())[PRICE],
    }
