"""Model sessions and versions ↔ ``model_sessions`` / ``model_versions`` rows; policy documents ↔ JSON rows."""

from __future__ import annotations

from collections.abc import Sequence

from spotopt.adapters.ml.manifests import manifest_from_json, manifest_to_json
from spotopt.adapters.persistence.models.model_registry import (
    ModelSessionModel,
    ModelVersionModel,
    PolicyDocumentModel,
)
from spotopt.domain.decisions.models import ModelKind, ModelOrigin, ModelStatus, ModelVersion
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.decisions.sessions import ModelSession


def version_to_domain(row: ModelVersionModel) -> ModelVersion:
    return ModelVersion(
        kind=ModelKind(row.kind),
        version=row.version_number,
        manifest=manifest_from_json(row.manifest),
        status=ModelStatus(row.status),
        registered_at=row.registered_at,
        status_changed_at=row.status_changed_at,
        session_id=row.session_id,
        size_bytes=row.size_bytes,
        file_name=row.file_name,
    )


def version_to_model(version: ModelVersion) -> ModelVersionModel:
    assert version.session_id is not None  # noqa: S101 - every stored version belongs to a session
    return ModelVersionModel(
        kind=version.kind.value,
        version_number=version.version,
        session_id=version.session_id,
        status=version.status.value,
        content_hash=version.content_hash,
        file_name=version.file_name,
        size_bytes=version.size_bytes,
        manifest=manifest_to_json(version.manifest),
        registered_at=version.registered_at,
        status_changed_at=version.status_changed_at,
    )


def session_to_domain(row: ModelSessionModel, versions: Sequence[ModelVersionModel]) -> ModelSession:
    return ModelSession(
        session_id=row.session_id,
        label=row.label,
        origin=ModelOrigin(row.origin),
        created_at=row.created_at,
        versions=tuple(version_to_domain(v) for v in sorted(versions, key=lambda v: (v.kind, v.version_number))),
        notes=row.notes or "",
        activated_at=row.activated_at,
    )


def policy_to_domain(row: PolicyDocumentModel) -> PolicyDocument:
    return PolicyDocument.from_mapping(row.document, row.policy_version)
