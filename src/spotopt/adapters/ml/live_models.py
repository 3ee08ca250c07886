"""Which model serves each kind right now (DP-20 – DP-22): pointers read through a ≤ 5 s cache, artefacts loaded
once per version, and the chain live → fallback → none (the rule estimator then stands in, DP-3).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from spotopt.adapters.ml.catboost_models import CatBoostPredictor, Predictor
from spotopt.application.ports.decisions import (
    ModelArtifacts,
    ModelRegistry,
    ModelSessions,
    SessionFile,
    SessionPointers,
)
from spotopt.domain.decisions.models import (
    LiveModels,
    ModelKind,
    ModelManifest,
    ModelOrigin,
    ModelStatus,
    ModelVersion,
)
from spotopt.domain.decisions.sessions import ModelSession
from spotopt.domain.shared.errors import DomainError

log = logging.getLogger(__name__)

POINTER_CACHE_SECONDS = 5.0
RETRY_FAILED_LOAD_SECONDS = 60.0

Loader = Callable[[bytes, ModelManifest, str], Predictor]


class CachedModelRegistry:
    """DP-22: ``live()`` answers from a cache at most ``ttl`` seconds old; writes go through and clear it.

    The cache is refreshed in the background once it is ``refresh_after`` seconds old, so decisions do not wait
    for the registry while the pointers are still fresh enough; past ``ttl`` a caller waits for the read. When the
    registry cannot be read the last known pointers keep serving (none before the first read).
    """

    def __init__(
        self,
        registry: ModelRegistry,
        ttl: float = POINTER_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        refresh_after: float | None = None,
    ) -> None:
        self._registry = registry
        self._ttl = ttl
        self._refresh_after = ttl * 0.8 if refresh_after is None else refresh_after
        self._clock = clock
        self._cached: dict[ModelKind, LiveModels] | None = None
        self._read_at = 0.0
        self._refreshing: asyncio.Task[dict[ModelKind, LiveModels]] | None = None

    async def live(self) -> dict[ModelKind, LiveModels]:
        age = self._clock() - self._read_at
        if self._cached is not None and age < self._refresh_after:
            return self._cached
        refresh = self._refresh()
        if self._cached is not None and age < self._ttl:
            return self._cached
        return await asyncio.shield(refresh)

    def _refresh(self) -> asyncio.Task[dict[ModelKind, LiveModels]]:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._read())
        return self._refreshing

    async def _read(self) -> dict[ModelKind, LiveModels]:
        started = self._clock()
        try:
            pointers = await self._registry.live()
        except Exception:  # an unreadable registry must not stop decisions (DP-3)
            log.warning("model registry unreadable; keeping the last known pointers", exc_info=True)
            return self._cached or {}
        self._cached, self._read_at = pointers, started
        return pointers

    def invalidate(self) -> None:
        """The next read goes to the registry (a swap made through this process is seen at once)."""
        self._cached = None

    async def register_candidate(self, manifest: ModelManifest, now: datetime) -> ModelVersion:
        return await self._registry.register_candidate(manifest, now)

    async def activate(self, kind: ModelKind, version: int, now: datetime) -> LiveModels:
        changed = await self._registry.activate(kind, version, now)
        self._cached = None
        return changed

    async def fall_back(self, kind: ModelKind, now: datetime) -> LiveModels:
        changed = await self._registry.fall_back(kind, now)
        self._cached = None
        return changed

    async def reject(self, kind: ModelKind, version: int, now: datetime) -> ModelVersion:
        return await self._registry.reject(kind, version, now)

    async def list_versions(self, kind: ModelKind | None = None) -> Sequence[ModelVersion]:
        return await self._registry.list_versions(kind)


class InvalidatingSessions:
    """``ModelSessions`` whose pointer swaps clear this process's pointer cache; other processes follow within
    the cache's 5 s (DP-22).
    """

    def __init__(self, sessions: ModelSessions, cache: CachedModelRegistry) -> None:
        self._sessions = sessions
        self._cache = cache

    async def add_session(
        self, *, label: str, origin: ModelOrigin, notes: str, files: Sequence[SessionFile], now: datetime
    ) -> tuple[ModelSession, bool]:
        return await self._sessions.add_session(label=label, origin=origin, notes=notes, files=files, now=now)

    async def activate_session(self, session_id: str, now: datetime) -> dict[ModelKind, SessionPointers]:
        try:
            return await self._sessions.activate_session(session_id, now)
        finally:
            self._cache.invalidate()

    async def fall_back_all(self, now: datetime) -> dict[ModelKind, SessionPointers]:
        try:
            return await self._sessions.fall_back_all(now)
        finally:
            self._cache.invalidate()

    async def get_session(self, session_id: str) -> ModelSession | None:
        return await self._sessions.get_session(session_id)

    async def list_sessions(
        self, statuses: frozenset[ModelStatus], limit: int, offset: int
    ) -> tuple[list[ModelSession], int]:
        return await self._sessions.list_sessions(statuses, limit, offset)


class LiveModelSource:
    """Loaded predictors per kind: the live version, else the fallback, else None.

    A version that fails to load (missing or corrupt artefact, failed smoke test) is skipped with a warning and
    retried after a minute; loaded versions stay in memory, keyed by content hash, until the pointers move on.
    """

    def __init__(
        self,
        registry: CachedModelRegistry,
        artifacts: ModelArtifacts,
        loader: Loader = CatBoostPredictor.load,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._artifacts = artifacts
        self._loader = loader
        self._clock = clock
        self._loaded: dict[str, Predictor] = {}
        self._failed: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def predictors(self) -> dict[ModelKind, Predictor | None]:
        pointers = await self._registry.live()
        chosen: dict[ModelKind, Predictor | None] = {}
        for kind in ModelKind:
            lineup = pointers.get(kind, LiveModels())
            chosen[kind] = await self._first_loadable([v for v in (lineup.live, lineup.fallback) if v is not None])
        in_use = {v.content_hash for lineup in pointers.values() for v in (lineup.live, lineup.fallback) if v}
        for digest in set(self._loaded) - in_use:
            del self._loaded[digest]
        return chosen

    async def _first_loadable(self, versions: list[ModelVersion]) -> Predictor | None:
        for version in versions:
            predictor = await self._load(version)
            if predictor is not None:
                return predictor
        return None

    async def _load(self, version: ModelVersion) -> Predictor | None:
        digest = version.content_hash
        if digest in self._loaded:
            return self._loaded[digest]
        failed_at = self._failed.get(digest)
        if failed_at is not None and self._clock() - failed_at < RETRY_FAILED_LOAD_SECONDS:
            return None
        async with self._lock:
            if digest in self._loaded:
                return self._loaded[digest]
            try:
                artifact = await self._artifacts.read(digest)
                predictor = await asyncio.to_thread(self._loader, artifact, version.manifest, version.name)
            except (DomainError, OSError) as exc:
                self._failed[digest] = self._clock()
                log.warning("model %s (%s) not loadable: %s", version.name, version.status.value, exc)
                return None
            self._failed.pop(digest, None)
            self._loaded[digest] = predictor
            return predictor
