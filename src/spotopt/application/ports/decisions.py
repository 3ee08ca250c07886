"""Ports of the decisions feature: stored decisions, the decision engine, the policy store and the models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.inputs import DecisionInput, Trigger
from spotopt.domain.decisions.models import (
    LiveModels,
    ModelKind,
    ModelManifest,
    ModelOrigin,
    ModelStatus,
    ModelVersion,
    TrainingWindow,
)
from spotopt.domain.decisions.policy import CatBoostTraining, PolicyDocument
from spotopt.domain.decisions.sessions import ModelSession
from spotopt.domain.decisions.training import Sample
from spotopt.domain.shared.ids import AgentId


class DecisionRepository(Protocol):
    """Stored decisions (DP-14, DP-15); a decision is stored with its ``decision_id`` and never changed."""

    async def add(self, decision: Decision) -> None: ...

    async def get(self, decision_id: str) -> Decision | None: ...

    async def latest_for_agent(self, agent_id: AgentId, *, trigger: Trigger | None = None) -> Decision | None:
        """The agent's newest stored decision (of ``trigger`` when given), by ``evaluated_at`` then id."""
        ...


class DecisionEngine(Protocol):
    """DP-1: the decision policy plus an estimator, for the policy's ``engine_kind``.

    Never raises because of the estimator: a pool the estimator cannot score in time is scored by the rule
    estimator (DP-3, per component and per call). The decision reports ``engine_kind``, the model versions and
    ``fallback_used``. Pure with respect to the database: it reads nothing and writes nothing.
    """

    async def decide(self, inp: DecisionInput, policy: PolicyDocument, now: datetime) -> Decision: ...


class PolicyStore(Protocol):
    """The active decision-policy document (DP-17, DP-18); the built-in default until one is uploaded. Never raises."""

    async def active(self) -> PolicyDocument: ...


class ModelRegistry(Protocol):
    """Model versions and their live/fallback pointers (DP-19 – DP-22), fleet-wide.

    Every method is atomic and durable when it returns (its own short transaction, never the caller's): a pointer
    swap is applied whole or not at all, and per kind there is at most one ``live`` and one ``fallback`` version.
    Raises ``ModelVersionNotFoundError`` for an unknown version and ``RuleConflictError`` (``session_rejected``,
    ``no_fallback``, ``not_candidate``) when DP-20 forbids the change; ``UnavailableError`` when the store behind
    it cannot be reached.
    """

    async def register_candidate(self, manifest: ModelManifest, now: datetime) -> ModelVersion:
        """A new ``candidate`` with the next version number of its kind (DP-19).

        Registering an artefact again (same kind and content hash) returns the version already registered, in
        whatever status it has now: re-running a job registers nothing twice.
        """
        ...

    async def activate(self, kind: ModelKind, version: int, now: datetime) -> LiveModels:
        """DP-20: the version goes live, the previous live becomes the fallback, the previous fallback retires."""
        ...

    async def fall_back(self, kind: ModelKind, now: datetime) -> LiveModels:
        """DP-20: the fallback goes live and the previous live retires."""
        ...

    async def reject(self, kind: ModelKind, version: int, now: datetime) -> ModelVersion:
        """DP-13: a candidate that failed the promotion gate becomes ``rejected``."""
        ...

    async def live(self) -> dict[ModelKind, LiveModels]:
        """The current pointers of every kind (a kind without versions maps to empty pointers)."""
        ...

    async def list_versions(self, kind: ModelKind | None = None) -> Sequence[ModelVersion]:
        """Registered versions (of ``kind`` when given), newest registration first."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionFile:
    """One validated artefact of an upload: its manifest, the part's file name and its size."""

    manifest: ModelManifest
    file_name: str
    size_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRef:
    session_id: str
    label: str
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPointers:
    """The sessions behind one kind's live and fallback versions (M15 / M16 answers)."""

    live: SessionRef | None = None
    fallback: SessionRef | None = None


class ModelSessions(Protocol):
    """Model sessions (A.12) over the same versions and pointers as ``ModelRegistry``, with its guarantees: each
    method is one atomic, durable change of its own (never the caller's transaction), and a failed call changes
    nothing (DP-20).
    """

    async def add_session(
        self, *, label: str, origin: ModelOrigin, notes: str, files: Sequence[SessionFile], now: datetime
    ) -> tuple[ModelSession, bool]:
        """A new session of ``candidate`` versions, numbered per kind (DP-19); True when created.

        The label taken by a session with the same contents (kinds and content hashes) → that session and False;
        with other contents → ``VersionExistsError``.
        """
        ...

    async def activate_session(self, session_id: str, now: datetime) -> dict[ModelKind, SessionPointers]:
        """M15: the session's versions go live in one swap (``NotFoundError``; ``session_rejected``)."""
        ...

    async def fall_back_all(self, now: datetime) -> dict[ModelKind, SessionPointers]:
        """M16: every kind with a fallback goes back to it in one swap (``no_fallback`` when none has one)."""
        ...

    async def get_session(self, session_id: str) -> ModelSession | None: ...

    async def list_sessions(
        self, statuses: frozenset[ModelStatus], limit: int, offset: int
    ) -> tuple[list[ModelSession], int]:
        """Sessions (of those statuses when any is given), newest first, and their total count."""
        ...


class PolicyVersions(Protocol):
    """Stored policy documents (DP-18): one ``active``, at most one ``fallback``; each call one atomic change."""

    async def activate_document(self, document: PolicyDocument, now: datetime) -> tuple[PolicyDocument, str | None]:
        """Store ``document`` as the next version and make it active in one swap; the previous active becomes the
        fallback and the previous fallback retires. Returns the stored document (its ``policy_version`` set) and
        the previous active version (None while the built-in document served).
        """
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineState:
    """Which engine really serves decisions now (H1 ``decision_engine``, M11)."""

    engine_kind: str
    policy_version: str
    risk_model_version: str | None
    price_model_version: str | None
    fallback_active: bool


class EngineStatus(Protocol):
    """Reads the active policy and the loadable models the way decisions do (DP-3, DP-22). Never raises."""

    async def current(self) -> EngineState: ...


class ModelArtifacts(Protocol):
    """The model store: immutable, content-addressed artefacts (DP-19). Artefacts are data, never code."""

    async def check(self, artifact: bytes, manifest: ModelManifest) -> float:
        """Validate without storing (the checks of ``put``); the reference row's score (DP-11 smoke test).
        Raises ``ModelInvalidError`` with the reason.
        """
        ...

    async def put(self, artifact: bytes, manifest: ModelManifest) -> None:
        """Store an artefact after validating it (DP-11, DP-21): its hash is ``manifest.content_hash``, it loads as a
        model of the manifest's kind with exactly the manifest's columns, and scores the reference row to a finite
        value in range (the ``expected_score`` when given). Raises ``ModelInvalidError`` and stores nothing
        otherwise. Storing the same artefact twice is a no-op.
        """
        ...

    async def read(self, content_hash: str) -> bytes:
        """The artefact's bytes; raises ``ArtifactMissingError`` when it is absent or fails its hash check."""
        ...


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """A freshly fitted artefact and its manifest (``reference_row`` and ``expected_score`` filled in)."""

    artifact: bytes
    manifest: ModelManifest


class ModelTrainer(Protocol):
    """Fits and scores models (DP-10): fixed seed and parameters from the policy, bounded threads, no files
    written outside the model store. Raises ``ModelInvalidError`` when an artefact cannot be scored.
    """

    async def fit(
        self,
        kind: ModelKind,
        training: Sequence[Sample],
        params: CatBoostTraining,
        *,
        label: str,
        window: TrainingWindow,
    ) -> TrainedModel: ...

    async def score(self, artifact: bytes, manifest: ModelManifest, samples: Sequence[Sample]) -> list[float]:
        """Per sample: the probability (risk) or ``ŷ`` (price), in sample order."""
        ...


class TrainingData(Protocol):
    """§6.9 samples with their labels, built under PR-35 – PR-37 from data available at each sample's time.

    ``samples`` returns the samples of ``kind`` with ``start <= at`` whose label window ends by ``end``. Read-only.
    """

    async def samples(self, kind: ModelKind, start: datetime, end: datetime) -> Sequence[Sample]: ...
