"""The model store under ``MODEL_DIR``: immutable, content-addressed artefacts (DP-19).

Layout: ``<root>/artifacts/<sha256>.cbm`` (read-only once written) and ``<root>/artifacts/<sha256>.json`` (the
manifest it was first stored with, for operators). Writes go to ``<root>/tmp`` and are renamed into place, so a
reader never sees half a file.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

from spotopt.adapters.ml.catboost_models import CatBoostPredictor, content_hash
from spotopt.adapters.ml.manifests import manifest_to_json
from spotopt.domain.decisions.models import ArtifactMissingError, ModelManifest

READ_ONLY = 0o444


class FileModelStore:
    """``ModelArtifacts`` on the local file system (one directory shared by the processes of an installation)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        return self._root

    @property
    def scratch(self) -> Path:
        """A directory inside the store for temporary files (DP-10: nothing is written outside the store)."""
        path = self._root / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def artifact_path(self, digest: str) -> Path:
        return self._root / "artifacts" / f"{digest}.cbm"

    async def check(self, artifact: bytes, manifest: ModelManifest) -> float:
        return await asyncio.to_thread(self.check_sync, artifact, manifest)

    def check_sync(self, artifact: bytes, manifest: ModelManifest) -> float:
        predictor = CatBoostPredictor.load(artifact, manifest)
        (score,) = predictor.predict([manifest.reference_row])
        return score

    async def put(self, artifact: bytes, manifest: ModelManifest) -> None:
        await asyncio.to_thread(self.put_sync, artifact, manifest)

    def put_sync(self, artifact: bytes, manifest: ModelManifest) -> None:
        CatBoostPredictor.load(artifact, manifest)  # DP-11 / DP-21: never store what does not validate
        target = self.artifact_path(manifest.content_hash)
        if target.exists() and self._hash_ok(target, manifest.content_hash):
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        self._write_atomically(target, artifact)
        note = target.with_suffix(".json")
        if not note.exists():
            text = json.dumps(manifest_to_json(manifest), indent=2, sort_keys=True).encode()
            self._write_atomically(note, text)

    async def read(self, content_hash: str) -> bytes:
        return await asyncio.to_thread(self.read_sync, content_hash)

    def read_sync(self, digest: str) -> bytes:
        path = self.artifact_path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ArtifactMissingError(digest, "the file is missing") from None
        except OSError as exc:
            raise ArtifactMissingError(digest, f"the file cannot be read ({exc.strerror})") from None
        if content_hash(data) != digest:
            raise ArtifactMissingError(digest, "the file fails its hash check")
        return data

    def _hash_ok(self, path: Path, digest: str) -> bool:
        try:
            return content_hash(path.read_bytes()) == digest
        except OSError:
            return False

    def _write_atomically(self, target: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.scratch, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, READ_ONLY)
            if target.exists():
                # A corrupt file under a content address is replaced by the verified bytes.
                os.chmod(target, 0o644)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
