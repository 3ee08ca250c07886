"""A ``ModelRegistry`` kept in one JSON file next to the model store (``<MODEL_DIR>/registry.json``).

Each operation takes an exclusive ``flock`` on ``registry.lock``, reads the file, applies the DP-20 rules and
replaces the file atomically, so the processes of one host see every pointer swap whole. Installations with
several hosts need the database-backed registry.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from spotopt.adapters.ml.manifests import version_from_json, version_to_json
from spotopt.application.errors import UnavailableError
from spotopt.domain.decisions.models import (
    LiveModels,
    ModelKind,
    ModelManifest,
    ModelStatus,
    ModelVersion,
    activate,
    check_pointers,
    fall_back,
    lineup,
    next_version_number,
    reject,
)
from spotopt.domain.shared.errors import InvalidValueError

_T = TypeVar("_T")


class FileModelRegistry:
    def __init__(self, root: Path) -> None:
        self._root = root

    @property
    def path(self) -> Path:
        return self._root / "registry.json"

    async def register_candidate(self, manifest: ModelManifest, now: datetime) -> ModelVersion:
        def change(versions: list[ModelVersion]) -> tuple[list[ModelVersion], ModelVersion]:
            same = next(
                (v for v in versions if v.kind is manifest.kind and v.content_hash == manifest.content_hash), None
            )
            if same is not None:
                return [], same
            new = ModelVersion(
                kind=manifest.kind,
                version=next_version_number(versions, manifest.kind),
                manifest=manifest,
                status=ModelStatus.CANDIDATE,
                registered_at=now,
                status_changed_at=now,
            )
            return [new], new

        return await self._update(change)

    async def activate(self, kind: ModelKind, version: int, now: datetime) -> LiveModels:
        return await self._swap(lambda vs: activate(vs, kind, version, now), kind)

    async def fall_back(self, kind: ModelKind, now: datetime) -> LiveModels:
        return await self._swap(lambda vs: fall_back(vs, kind, now), kind)

    async def reject(self, kind: ModelKind, version: int, now: datetime) -> ModelVersion:
        def change(versions: list[ModelVersion]) -> tuple[list[ModelVersion], ModelVersion]:
            changed = reject(versions, kind, version, now)
            return changed, changed[0]

        return await self._update(change)

    async def live(self) -> dict[ModelKind, LiveModels]:
        versions = await asyncio.to_thread(self._read)
        return {kind: lineup(versions, kind) for kind in ModelKind}

    async def list_versions(self, kind: ModelKind | None = None) -> Sequence[ModelVersion]:
        versions = await asyncio.to_thread(self._read)
        chosen = [v for v in versions if kind is None or v.kind is kind]
        return sorted(chosen, key=lambda v: (v.registered_at, v.kind.value, v.version), reverse=True)

    async def _swap(self, rule: Callable[[list[ModelVersion]], list[ModelVersion]], kind: ModelKind) -> LiveModels:
        def change(versions: list[ModelVersion]) -> tuple[list[ModelVersion], LiveModels]:
            changed = rule(versions)
            return changed, lineup(_merge(versions, changed), kind)

        return await self._update(change)

    async def _update(self, change: Callable[[list[ModelVersion]], tuple[list[ModelVersion], _T]]) -> _T:
        def run() -> _T:
            with self._locked():
                versions = self._read()
                changed, result = change(versions)
                if changed:
                    merged = _merge(versions, changed)
                    check_pointers(merged)
                    self._write(merged)
                return result

        return await asyncio.to_thread(run)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self._root.mkdir(parents=True, exist_ok=True)
            handle = open(self._root / "registry.lock", "a+")  # noqa: SIM115 - held for the whole block
        except OSError:
            raise UnavailableError("model registry") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self) -> list[ModelVersion]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            raise UnavailableError("model registry") from None
        try:
            return [version_from_json(item) for item in raw.get("versions", [])]
        except (InvalidValueError, AttributeError, TypeError, ValueError):
            raise UnavailableError("model registry") from None

    def _write(self, versions: list[ModelVersion]) -> None:
        text = json.dumps({"versions": [version_to_json(v) for v in versions]}, indent=1, sort_keys=True)
        fd, tmp = tempfile.mkstemp(dir=self._root, prefix=".registry-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _merge(versions: list[ModelVersion], changed: list[ModelVersion]) -> list[ModelVersion]:
    by_key = {(v.kind, v.version): v for v in versions}
    for v in changed:
        by_key[(v.kind, v.version)] = v
    return sorted(by_key.values(), key=lambda v: (v.kind.value, v.version))
