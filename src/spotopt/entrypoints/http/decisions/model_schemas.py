"""Wire shapes of M14 – M18: the upload manifest, the M15 body and the ModelSession object (A.12)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

import msgspec

from spotopt.application.decisions.pointer_swap import PROPAGATION_SECONDS, PointerSwapResult
from spotopt.application.decisions.upload_model_session import UploadedModel, UploadModelSessionCommand
from spotopt.application.ports.decisions import SessionPointers, SessionRef
from spotopt.domain.decisions.features import FeatureValue
from spotopt.domain.decisions.models import ModelKind, TrainingWindow
from spotopt.domain.decisions.sessions import ModelSession
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.entrypoints.http.wire import dt

Label = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
Notes = Annotated[str, msgspec.Meta(max_length=1000)]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TrainingWindowWire(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    from_: str = msgspec.field(name="from")
    to: str


class ManifestModel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    file: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    kind: ModelKind
    features: Annotated[list[str], msgspec.Meta(min_length=1, max_length=64)]
    reference_row: dict[str, float | int | str | None]
    metrics: dict[str, float] | None = None
    training_window: TrainingWindowWire | None = None


class UploadManifest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: Label
    models: Annotated[list[ManifestModel], msgspec.Meta(min_length=1, max_length=2)]
    notes: Notes | None = None


class ActivateRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    session_id: str | None = None
    sessionId: str | None = None  # noqa: N815 - the legacy camelCase spelling M15 accepts

    def chosen(self) -> str:
        value = self.session_id or self.sessionId
        if not value:
            raise InvalidValueError("session_id", "is required")
        return value


def parse_manifest(raw: bytes | str) -> UploadManifest:
    """400 ``validation_error`` for a manifest that is not JSON or does not fit the M14 schema."""
    try:
        return msgspec.json.decode(raw, type=UploadManifest, strict=True)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `$")
        raise InvalidValueError(f"manifest{path.strip('`')}", message) from None
    except msgspec.DecodeError:
        raise InvalidValueError("manifest", "is not valid JSON") from None


def upload_command(manifest: UploadManifest, files: dict[str, bytes]) -> UploadModelSessionCommand:
    return UploadModelSessionCommand(
        label=manifest.version,
        notes=manifest.notes or "",
        files=files,
        models=tuple(
            UploadedModel(
                file=m.file,
                kind=m.kind,
                features=tuple(m.features),
                reference_row=_row(m.reference_row),
                metrics=dict(m.metrics or {}),
                training_window=_window(m.training_window),
            )
            for m in manifest.models
        ),
    )


def _row(raw: dict[str, float | int | str | None]) -> dict[str, FeatureValue]:
    return {k: float(v) if isinstance(v, int) else v for k, v in raw.items()}


def _window(raw: TrainingWindowWire | None) -> TrainingWindow | None:
    if raw is None:
        return None
    if not (_DATE.match(raw.from_) and _DATE.match(raw.to)):
        raise InvalidValueError("manifest.training_window", "must be {from, to} ISO dates")
    try:
        return TrainingWindow(date.fromisoformat(raw.from_), date.fromisoformat(raw.to))
    except ValueError:
        raise InvalidValueError("manifest.training_window", "must be {from, to} ISO dates") from None


def session_body(session: ModelSession) -> dict[str, Any]:
    """A.12 ModelSession."""
    return {
        "id": session.session_id,
        "version": session.label,
        "status": session.status.value,
        "origin": session.origin.value,
        "models": [
            {
                "kind": v.kind.value,
                "version_number": v.version,
                "status": v.status.value,
                "file_name": v.file_name,
                "sha256": v.content_hash,
                "size_bytes": v.size_bytes,
                "feature_count": len(v.manifest.features),
                "features": list(v.manifest.features),
                "metrics": dict(v.manifest.metrics),
                "smoke_prediction": v.manifest.expected_score,
            }
            for v in session.versions
        ],
        "file_count": len(session.versions),
        "total_size_bytes": sum(v.size_bytes for v in session.versions),
        "notes": session.notes or None,
        "created_at": dt(session.created_at),
        "activated_at": dt(session.activated_at) if session.activated_at is not None else None,
    }


def _ref(ref: SessionRef | None) -> dict[str, Any] | None:
    return None if ref is None else {"session_id": ref.session_id, "version": ref.label}


def swap_body(result: PointerSwapResult) -> dict[str, Any]:
    """M15 / M16: the sessions behind each kind's live and fallback pointers."""
    pointers: dict[ModelKind, SessionPointers] = result.pointers
    return {
        "success": True,
        "live": {kind.value: _ref(p.live) for kind, p in pointers.items() if p.live is not None},
        "fallback": {kind.value: _ref(p.fallback) for kind, p in pointers.items() if p.live is not None},
        "activated_at": dt(result.activated_at),
        "propagation_seconds": PROPAGATION_SECONDS,
    }
