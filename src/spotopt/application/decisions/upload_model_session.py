"""M14: upload CatBoost models as one session of candidate versions (DP-11, DP-19, DP-21). Never accepts code."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.decisions import ModelArtifacts, ModelSessions, SessionFile
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.decisions.features import INSTANCE_FEATURES, KNOWN_FEATURES, FeatureValue
from spotopt.domain.decisions.models import (
    ModelInvalidError,
    ModelKind,
    ModelManifest,
    ModelOrigin,
    TrainingWindow,
)
from spotopt.domain.decisions.sessions import (
    MAX_SESSION_NOTES,
    ModelSession,
    UnknownFeatureError,
    UploadRejectedError,
)
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import DomainEvent, Severity

MODEL_SUFFIX = ".cbm"


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadedModel:
    """One ``models[]`` entry of the M14 manifest."""

    file: str
    kind: ModelKind
    features: tuple[str, ...]
    reference_row: Mapping[str, FeatureValue]
    metrics: Mapping[str, float] = field(default_factory=dict)
    training_window: TrainingWindow | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadModelSessionCommand:
    label: str
    models: tuple[UploadedModel, ...]
    files: Mapping[str, bytes]
    notes: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadModelSessionResult:
    session: ModelSession
    created: bool


class UploadModelSession:
    """- Every file is validated before anything is stored: each part referenced exactly once, ``.cbm``, at most
      one model per kind, known §6.9 features, and the artefact loads as CatBoost with exactly those columns and
      scores the reference row finite and in range (DP-11). The first failure rejects the whole upload.
    - Then the artefacts go to the content-addressed store and the session is registered in one registry swap
      (``candidate``, origin ``uploaded``); nothing becomes live (DP-21). A repeated upload answers the session.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, artifacts: ModelArtifacts, sessions: ModelSessions) -> None:
        self._uow = uow
        self._clock = clock
        self._artifacts = artifacts
        self._sessions = sessions

    async def execute(self, command: UploadModelSessionCommand) -> UploadModelSessionResult:
        _check_shape(command)
        files: list[tuple[SessionFile, bytes]] = []
        for model in command.models:
            data = command.files[model.file]
            manifest = _manifest(command, model, data)
            try:
                score = await self._artifacts.check(data, manifest)
            except ModelInvalidError as exc:
                raise UploadRejectedError(model.file, exc.reason) from None
            stored = ModelManifest(
                kind=manifest.kind, features=manifest.features, content_hash=manifest.content_hash,
                origin=manifest.origin, reference_row=manifest.reference_row, label=manifest.label,
                expected_score=score, training_window=manifest.training_window, metrics=manifest.metrics,
                notes=manifest.notes,
            )  # fmt: skip
            files.append((SessionFile(manifest=stored, file_name=model.file, size_bytes=len(data)), data))
        for file, data in files:
            try:
                await self._artifacts.put(data, file.manifest)
            except ModelInvalidError as exc:  # pragma: no cover - checked just above
                raise UploadRejectedError(file.file_name, exc.reason) from None
        now = self._clock.now()
        session, created = await self._sessions.add_session(
            label=command.label, origin=ModelOrigin.UPLOADED, notes=command.notes, files=[f for f, _ in files], now=now
        )
        if created:
            await record_events(self._uow, [_registered(session)], now)
            await self._uow.commit()
        return UploadModelSessionResult(session=session, created=created)


def _check_shape(command: UploadModelSessionCommand) -> None:
    if len(command.notes) > MAX_SESSION_NOTES:
        raise InvalidValueError("notes", f"must be at most {MAX_SESSION_NOTES} characters")
    if not 1 <= len(command.models) <= 2:
        raise InvalidValueError("models", "must list 1 or 2 models")
    kinds = [m.kind for m in command.models]
    if len(set(kinds)) != len(kinds):
        raise InvalidValueError("models", "at most one model per kind")
    for name in command.files:
        if not name.endswith(MODEL_SUFFIX):
            raise InvalidValueError("files", f"{name} is not a {MODEL_SUFFIX} file")
    referenced = [m.file for m in command.models]
    if len(set(referenced)) != len(referenced):
        raise InvalidValueError("models", "a file is referenced twice")
    missing = [name for name in referenced if name not in command.files]
    if missing:
        raise InvalidValueError("models", f"no uploaded file {missing[0]}")
    unreferenced = sorted(set(command.files) - set(referenced))
    if unreferenced:
        raise InvalidValueError("files", f"{unreferenced[0]} is not referenced by the manifest")
    for model in command.models:
        for name in model.features:
            if name not in KNOWN_FEATURES or (model.kind is ModelKind.PRICE_FORECAST and name in INSTANCE_FEATURES):
                raise UnknownFeatureError(name)


def _manifest(command: UploadModelSessionCommand, model: UploadedModel, data: bytes) -> ModelManifest:
    try:
        return ModelManifest(
            kind=model.kind,
            features=model.features,
            content_hash=hashlib.sha256(data).hexdigest(),
            origin=ModelOrigin.UPLOADED,
            reference_row=dict(model.reference_row),
            label=command.label,
            training_window=model.training_window,
            metrics=dict(model.metrics),
            notes=command.notes,
        )
    except InvalidValueError as exc:
        raise InvalidValueError(f"models[{model.file}].{exc.field}", exc.reason) from None


def _registered(session: ModelSession) -> DomainEvent:
    versions = ", ".join(v.name for v in session.versions)
    return DomainEvent(
        type="model_candidate_registered",
        severity=Severity.INFO,
        message=f"Model session {session.label} uploaded: {versions} registered as candidates",
        metadata={
            "session_id": session.session_id,
            "version": session.label,
            "origin": session.origin.value,
            "models": [{"kind": v.kind.value, "version_number": v.version} for v in session.versions],
        },
    )
