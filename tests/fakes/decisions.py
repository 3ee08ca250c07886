"""Fakes of the decisions ports."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from spotopt.application.errors import NotFoundError
from spotopt.application.ports.decisions import SessionFile, SessionPointers, SessionRef, TrainedModel
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.features import PRICE_FEATURES, RISK_FEATURES, FeatureRow
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.decisions.models import (
    ArtifactMissingError,
    LiveModels,
    ModelInvalidError,
    ModelKind,
    ModelManifest,
    ModelOrigin,
    ModelStatus,
    ModelVersion,
    TrainingWindow,
    activate,
    check_pointers,
    fall_back,
    lineup,
    next_version_number,
    reject,
)
from spotopt.domain.decisions.policy import CatBoostTraining
from spotopt.domain.decisions.sessions import ModelSession, VersionExistsError, activate_session, fall_back_all
from spotopt.domain.decisions.training import Sample
from spotopt.domain.shared.ids import AgentId
from tests.fakes.store import InMemoryRepository


class InMemoryDecisionRepository(InMemoryRepository):
    async def add(self, decision: Decision) -> None:
        assert decision.decision_id is not None, "a stored decision needs its id"
        self.store.decisions[decision.decision_id] = decision

    async def get(self, decision_id: str) -> Decision | None:
        return self.store.decisions.get(decision_id)

    async def latest_for_agent(self, agent_id: AgentId, *, trigger: Trigger | None = None) -> Decision | None:
        found = [
            d
            for d in self.store.decisions.values()
            if d.agent_id == agent_id and (trigger is None or d.trigger is trigger)
        ]
        return max(found, key=lambda d: (d.evaluated_at, d.decision_id or ""), default=None)


class InMemoryModelRegistry:
    """``ModelRegistry`` and ``ModelSessions`` over a list, applying the same DP-20 rules as the real registries;
    each call is atomic (a failing call changes nothing).
    """

    def __init__(self) -> None:
        self.versions: list[ModelVersion] = []
        self.sessions: dict[str, ModelSession] = {}
        self.live_reads = 0

    async def register_candidate(self, manifest: ModelManifest, now: datetime) -> ModelVersion:
        same = next(
            (v for v in self.versions if v.kind is manifest.kind and v.content_hash == manifest.content_hash), None
        )
        if same is not None:
            return same
        label = manifest.label
        if any(s.label == label for s in self.sessions.values()):
            label = f"{manifest.label[:51]}-{manifest.content_hash[:12]}"
        file = SessionFile(manifest=manifest, file_name=f"{manifest.kind.value}.cbm", size_bytes=0)
        session = self._insert(label, manifest.origin, manifest.notes, [file], now)
        return session.versions[0]

    async def add_session(
        self, *, label: str, origin: ModelOrigin, notes: str, files: Sequence[SessionFile], now: datetime
    ) -> tuple[ModelSession, bool]:
        existing = next((s for s in self.sessions.values() if s.label == label), None)
        if existing is not None:
            existing = self._current(existing)
            if existing.contents != frozenset((f.manifest.kind, f.manifest.content_hash) for f in files):
                raise VersionExistsError(f"Model session {label} exists with other content", version=label)
            return existing, False
        return self._insert(label, origin, notes, files, now), True

    async def activate_session(self, session_id: str, now: datetime) -> dict[ModelKind, SessionPointers]:
        session = self.sessions.get(session_id)
        if session is None:
            raise NotFoundError(f"No model session {session_id}", session_id=session_id)
        changed = activate_session(self.versions, self._current(session), now)
        if changed:
            self._apply(changed)
            self.sessions[session_id] = dataclasses.replace(session, activated_at=now)
        return self._pointers()

    async def fall_back_all(self, now: datetime) -> dict[ModelKind, SessionPointers]:
        changed = fall_back_all(self.versions, now)
        self._apply(changed)
        for sid in {v.session_id for v in changed if v.status is ModelStatus.LIVE and v.session_id}:
            self.sessions[sid] = dataclasses.replace(self.sessions[sid], activated_at=now)
        return self._pointers()

    async def get_session(self, session_id: str) -> ModelSession | None:
        session = self.sessions.get(session_id)
        return None if session is None else self._current(session)

    async def list_sessions(
        self, statuses: frozenset[ModelStatus], limit: int, offset: int
    ) -> tuple[list[ModelSession], int]:
        ordered = sorted(self.sessions.values(), key=lambda s: (s.created_at, s.session_id), reverse=True)
        current = [self._current(s) for s in ordered]
        chosen = [s for s in current if not statuses or s.status in statuses]
        return chosen[offset : offset + limit], len(chosen)

    def _insert(
        self, label: str, origin: ModelOrigin, notes: str, files: Sequence[SessionFile], now: datetime
    ) -> ModelSession:
        session_id = f"session-{len(self.sessions) + 1}"
        versions: list[ModelVersion] = []
        for file in files:
            kind = file.manifest.kind
            number = next_version_number([*self.versions, *versions], kind)
            versions.append(
                ModelVersion(
                    kind,
                    number,
                    file.manifest,
                    ModelStatus.CANDIDATE,
                    now,
                    now,
                    session_id=session_id,
                    size_bytes=file.size_bytes,
                    file_name=file.file_name,
                )
            )
        self.versions.extend(versions)
        session = ModelSession(
            session_id=session_id, label=label, origin=origin, created_at=now, versions=tuple(versions), notes=notes
        )
        self.sessions[session_id] = session
        return session

    def _current(self, session: ModelSession) -> ModelSession:
        versions = tuple(v for v in self.versions if v.session_id == session.session_id)
        return dataclasses.replace(session, versions=versions)

    def _pointers(self) -> dict[ModelKind, SessionPointers]:
        def ref(version: ModelVersion | None) -> SessionRef | None:
            if version is None or version.session_id is None:
                return None
            label = self.sessions[version.session_id].label
            return SessionRef(session_id=version.session_id, label=label, version=version.version)

        return {
            kind: SessionPointers(
                live=ref(lineup(self.versions, kind).live), fallback=ref(lineup(self.versions, kind).fallback)
            )
            for kind in ModelKind
        }

    async def activate(self, kind: ModelKind, version: int, now: datetime) -> LiveModels:
        self._apply(activate(self.versions, kind, version, now))
        return lineup(self.versions, kind)

    async def fall_back(self, kind: ModelKind, now: datetime) -> LiveModels:
        self._apply(fall_back(self.versions, kind, now))
        return lineup(self.versions, kind)

    async def reject(self, kind: ModelKind, version: int, now: datetime) -> ModelVersion:
        (changed,) = reject(self.versions, kind, version, now)
        self._apply([changed])
        return changed

    async def live(self) -> dict[ModelKind, LiveModels]:
        self.live_reads += 1
        return {kind: lineup(self.versions, kind) for kind in ModelKind}

    async def list_versions(self, kind: ModelKind | None = None) -> Sequence[ModelVersion]:
        chosen = [v for v in self.versions if kind is None or v.kind is kind]
        return sorted(chosen, key=lambda v: (v.registered_at, v.kind.value, v.version), reverse=True)

    def _apply(self, changed: list[ModelVersion]) -> None:
        by_key = {(v.kind, v.version): v for v in self.versions} | {(v.kind, v.version): v for v in changed}
        merged = sorted(by_key.values(), key=lambda v: (v.kind.value, v.version))
        check_pointers(merged)
        self.versions = merged


class InMemoryModelArtifacts:
    """``ModelArtifacts`` in a dict. Validation is the hash check, plus a failed smoke test for every artefact
    while ``smoke_test_fails`` is set; ``corrupt`` breaks a stored artefact so that ``read`` fails its hash check
    like the file store's.
    """

    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}
        self.smoke_test_fails = False

    async def check(self, artifact: bytes, manifest: ModelManifest) -> float:
        if hashlib.sha256(artifact).hexdigest() != manifest.content_hash:
            raise ModelInvalidError("content hash does not match the manifest")
        if self.smoke_test_fails or not artifact.startswith(b"STUB"):
            raise ModelInvalidError(
                "not a CatBoost binary model (.cbm)"
                if not artifact.startswith(b"STUB")
                else "the reference row scores outside [0, 1]"
            )
        return manifest.expected_score if manifest.expected_score is not None else 0.5

    async def put(self, artifact: bytes, manifest: ModelManifest) -> None:
        if hashlib.sha256(artifact).hexdigest() != manifest.content_hash:
            raise ModelInvalidError("content hash does not match the manifest")
        if self.smoke_test_fails:
            raise ModelInvalidError("the reference row scores outside [0, 1]")
        self.items[manifest.content_hash] = artifact

    async def read(self, content_hash: str) -> bytes:
        data = self.items.get(content_hash)
        if data is None:
            raise ArtifactMissingError(content_hash, "the file is missing")
        if hashlib.sha256(data).hexdigest() != content_hash:
            raise ArtifactMissingError(content_hash, "the file fails its hash check")
        return data

    def corrupt(self, content_hash: str) -> None:
        self.items[content_hash] = self.items[content_hash] + b"!"


class InMemoryTrainingData:
    """``TrainingData`` over lists of samples per kind; records the windows asked for."""

    def __init__(self, samples: dict[ModelKind, list[Sample]] | None = None) -> None:
        self.samples_by_kind = samples or {}
        self.requests: list[tuple[ModelKind, datetime, datetime]] = []

    async def samples(self, kind: ModelKind, start: datetime, end: datetime) -> Sequence[Sample]:
        self.requests.append((kind, start, end))
        return [s for s in self.samples_by_kind.get(kind, []) if start <= s.at and s.label_end <= end]


ScoreFn = Callable[[bytes, Sample], float]


class StubModelTrainer:
    """``ModelTrainer`` whose artefact is a digest of its training set and parameters (same inputs, same bytes, as
    DP-10 requires) and whose scores come from ``score_of`` (artefact, sample) → score. Records every call.
    """

    def __init__(self, score_of: ScoreFn) -> None:
        self.score_of = score_of
        self.fits: list[tuple[ModelKind, int, CatBoostTraining]] = []
        self.scored: list[tuple[str, int]] = []

    async def fit(
        self,
        kind: ModelKind,
        training: Sequence[Sample],
        params: CatBoostTraining,
        *,
        label: str,
        window: TrainingWindow,
    ) -> TrainedModel:
        self.fits.append((kind, len(training), params))
        seed = f"{kind.value}|{params}|" + "|".join(f"{s.pool_id}@{s.at.isoformat()}={s.label}" for s in training)
        artifact = b"STUB" + hashlib.sha256(seed.encode()).digest()
        features = RISK_FEATURES if kind is ModelKind.INTERRUPTION_RISK else PRICE_FEATURES
        manifest = ModelManifest(
            kind=kind,
            features=features,
            content_hash=hashlib.sha256(artifact).hexdigest(),
            origin=ModelOrigin.TRAINED,
            reference_row={name: training[0].features.get(name) for name in features},
            label=label,
            expected_score=0.5,
            training_window=window,
        )
        return TrainedModel(artifact=artifact, manifest=manifest)

    async def score(self, artifact: bytes, manifest: ModelManifest, samples: Sequence[Sample]) -> list[float]:
        self.scored.append((manifest.content_hash, len(samples)))
        return [self.score_of(artifact, s) for s in samples]


class StubPredictor:
    """A ``Predictor`` with canned scores (one per row, ``score`` for every row by default); records its inputs.

    With ``gate`` set, ``predict`` blocks until the test sets the event (a model that misses its time budget).
    """

    def __init__(
        self,
        kind: ModelKind,
        name: str,
        score: float = 0.1,
        *,
        scores: Callable[[FeatureRow], float] | None = None,
        gate: threading.Event | None = None,
        error: Exception | None = None,
    ) -> None:
        self._kind = kind
        self._name = name
        self._score = score
        self._scores = scores
        self.gate = gate
        self.error = error
        self.calls: list[list[FeatureRow]] = []

    @property
    def kind(self) -> ModelKind:
        return self._kind

    @property
    def name(self) -> str:
        return self._name

    def predict(self, rows: Sequence[FeatureRow]) -> list[float]:
        self.calls.append(list(rows))
        if self.gate is not None:
            self.gate.wait()
        if self.error is not None:
            raise self.error
        return [self._scores(r) if self._scores else self._score for r in rows]
