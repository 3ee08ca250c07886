"""DP-22 live-pointer cache: never older than 5 s, refreshed early in the background, last known on failure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from spotopt.adapters.ml.live_models import CachedModelRegistry
from spotopt.domain.decisions.models import LiveModels, ModelKind, ModelStatus
from tests.fakes.decisions import InMemoryModelRegistry
from tests.unit.decisions.ml_helpers import FakeMonotonic, manifest_for

NOW = datetime(2026, 11, 28, tzinfo=UTC)
RISK = ModelKind.INTERRUPTION_RISK


class GatedRegistry(InMemoryModelRegistry):
    """Reads wait for ``gate`` (a slow registry); ``fail`` makes them raise."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail = False

    async def live(self) -> dict[ModelKind, LiveModels]:
        await self.gate.wait()
        if self.fail:
            raise OSError("registry unreachable")
        return await super().live()


def live_version(pointers: dict[ModelKind, LiveModels]) -> int | None:
    live = pointers[RISK].live
    return None if live is None else live.version


async def test_dp22_a_slow_registry_never_delays_fresh_pointers_and_stale_ones_are_never_served() -> None:
    registry, clock = GatedRegistry(), FakeMonotonic()
    await registry.register_candidate(manifest_for(RISK, 1), NOW)
    await registry.activate(RISK, 1, NOW)
    cache = CachedModelRegistry(registry, clock=clock)
    assert live_version(await cache.live()) == 1

    await registry.register_candidate(manifest_for(RISK, 2), NOW)
    await registry.activate(RISK, 2, NOW)  # another process swaps the pointer
    registry.gate.clear()
    clock.value += 4.5
    # Between 4 and 5 s: the cached pointers answer at once while a refresh runs in the background.
    assert live_version(await asyncio.wait_for(cache.live(), 1)) == 1
    clock.value += 0.5
    # At 5 s the cached pointers are too old: the caller waits for the read.
    waiting = asyncio.ensure_future(cache.live())
    await asyncio.sleep(0)
    assert not waiting.done()
    registry.gate.set()
    assert live_version(await waiting) == 2


async def test_dp22_an_unreadable_registry_keeps_the_last_known_pointers() -> None:
    registry, clock = GatedRegistry(), FakeMonotonic()
    await registry.register_candidate(manifest_for(RISK, 1), NOW)
    await registry.activate(RISK, 1, NOW)
    cache = CachedModelRegistry(registry, clock=clock)
    await cache.live()
    registry.fail = True
    clock.value += 10
    assert live_version(await cache.live()) == 1
    assert (await CachedModelRegistry(registry, clock=clock).live()) == {}


async def test_a_swap_through_the_cache_is_visible_at_once_in_this_process() -> None:
    registry, clock = GatedRegistry(), FakeMonotonic()
    for n in (1, 2):
        await registry.register_candidate(manifest_for(RISK, n), NOW)
    cache = CachedModelRegistry(registry, clock=clock)
    await cache.activate(RISK, 1, NOW)
    assert live_version(await cache.live()) == 1
    await cache.activate(RISK, 2, NOW)
    assert live_version(await cache.live()) == 2
    await cache.fall_back(RISK, NOW)
    assert live_version(await cache.live()) == 1
    assert [v.status for v in await cache.list_versions(RISK)] == [ModelStatus.RETIRED, ModelStatus.LIVE]
