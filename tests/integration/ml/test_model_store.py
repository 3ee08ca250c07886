"""The model store under MODEL_DIR (DP-19, DP-11, DP-21): immutable, content-addressed, validated, never code."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from pathlib import Path

import pytest

from spotopt.adapters.ml.model_store import FileModelStore
from spotopt.domain.decisions.models import ArtifactMissingError, ModelInvalidError
from tests.integration.ml.tiny import train_tiny


async def test_an_artefact_is_stored_read_only_under_its_hash_and_read_back_verified(tmp_path: Path) -> None:
    trained = train_tiny(tmp_path / "train")
    store = FileModelStore(tmp_path / "models")
    await store.put(trained.artifact, trained.manifest)
    path = store.artifact_path(trained.manifest.content_hash)
    assert path.name == f"{trained.manifest.content_hash}.cbm"
    assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert path.with_suffix(".json").is_file()
    assert await store.read(trained.manifest.content_hash) == trained.artifact
    await store.put(trained.artifact, trained.manifest)  # storing it again is a no-op
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, path.with_suffix(".json").name])


async def test_a_missing_or_corrupt_artefact_is_reported_never_returned(tmp_path: Path) -> None:
    trained = train_tiny(tmp_path / "train")
    store = FileModelStore(tmp_path / "models")
    with pytest.raises(ArtifactMissingError, match="missing"):
        await store.read(trained.manifest.content_hash)
    await store.put(trained.artifact, trained.manifest)
    path = store.artifact_path(trained.manifest.content_hash)
    os.chmod(path, 0o644)
    path.write_bytes(trained.artifact[:-10])
    with pytest.raises(ArtifactMissingError, match="hash check"):
        await store.read(trained.manifest.content_hash)
    # Storing the verified bytes again repairs the content address.
    await store.put(trained.artifact, trained.manifest)
    assert await store.read(trained.manifest.content_hash) == trained.artifact


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"import os; os.system('rm -rf /')", "not a CatBoost binary model"),
        (b"CBM1" + b"\x00" * 64, "CatBoost cannot load it"),
    ],
    ids=["code", "truncated-cbm"],
)
async def test_anything_but_a_valid_cbm_is_rejected_and_nothing_is_stored(
    tmp_path: Path, payload: bytes, reason: str
) -> None:
    trained = train_tiny(tmp_path / "train")
    manifest = dataclasses.replace(trained.manifest, content_hash=hashlib.sha256(payload).hexdigest())
    store = FileModelStore(tmp_path / "models")
    with pytest.raises(ModelInvalidError, match=reason):
        await store.put(payload, manifest)
    assert not (tmp_path / "models" / "artifacts").exists()


async def test_dp11_a_reference_row_that_does_not_score_as_expected_is_rejected(tmp_path: Path) -> None:
    trained = train_tiny(tmp_path / "train")
    assert trained.manifest.expected_score is not None
    wrong = dataclasses.replace(trained.manifest, expected_score=trained.manifest.expected_score + 0.05)
    with pytest.raises(ModelInvalidError, match="the manifest expects"):
        await FileModelStore(tmp_path / "models").put(trained.artifact, wrong)


async def test_a_hash_that_does_not_match_the_bytes_is_rejected(tmp_path: Path) -> None:
    trained = train_tiny(tmp_path / "train")
    wrong = dataclasses.replace(trained.manifest, content_hash="0" * 64)
    with pytest.raises(ModelInvalidError, match="content hash"):
        await FileModelStore(tmp_path / "models").put(trained.artifact, wrong)
