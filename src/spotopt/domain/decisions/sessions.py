"""Model sessions (api A.12, domain DP-19 – DP-21): the versions uploaded together, or one trained candidate.

A session is how operators see and move model versions: M15 makes all of a session's versions live in one
pointer swap, M16 puts every kind's fallback back. The rules are the per-kind swaps of ``models.py`` applied to
each version of the session in turn, so the DP-20 invariants hold across the whole session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from spotopt.domain.decisions.models import (
    ModelKind,
    ModelOrigin,
    ModelStatus,
    ModelVersion,
    activate,
    check_pointers,
    fall_back,
    lineup,
)
from spotopt.domain.shared.errors import RuleConflictError, UnusableTargetError

# A.12: a session shows the most advanced status among its versions.
STATUS_RANK = (ModelStatus.LIVE, ModelStatus.FALLBACK, ModelStatus.CANDIDATE, ModelStatus.RETIRED, ModelStatus.REJECTED)
MAX_SESSION_NOTES = 1000


class VersionExistsError(RuleConflictError):
    """M14 409: the label is taken by a session with different content."""

    code = "version_exists"


class UploadRejectedError(UnusableTargetError):
    """M14 422 ``model_invalid``: the file is not a usable CatBoost model of its manifest entry (DP-11, DP-21)."""

    code = "model_invalid"

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"Model file {file} rejected: {reason}", file=file, reason=reason)
        self.file = file
        self.reason = reason


class UnknownFeatureError(UnusableTargetError):
    """M14 422 ``unknown_feature``: a manifest names a feature §6.9 does not define (or not for its kind)."""

    code = "unknown_feature"

    def __init__(self, feature: str) -> None:
        super().__init__(f"Unknown model feature {feature}", feature=feature)
        self.feature = feature


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSession:
    session_id: str
    label: str
    origin: ModelOrigin
    created_at: datetime
    versions: tuple[ModelVersion, ...]
    notes: str = ""
    activated_at: datetime | None = None

    @property
    def status(self) -> ModelStatus:
        present = {v.status for v in self.versions}
        return next((s for s in STATUS_RANK if s in present), ModelStatus.CANDIDATE)

    @property
    def contents(self) -> frozenset[tuple[ModelKind, str]]:
        """What M14 compares to tell a repeated upload (200) from a clashing label (409)."""
        return frozenset((v.kind, v.content_hash) for v in self.versions)

    @property
    def is_live(self) -> bool:
        return bool(self.versions) and all(v.status is ModelStatus.LIVE for v in self.versions)


def merge_versions(versions: Sequence[ModelVersion], changed: Sequence[ModelVersion]) -> list[ModelVersion]:
    by_key = {(v.kind, v.version): v for v in versions} | {(v.kind, v.version): v for v in changed}
    return sorted(by_key.values(), key=lambda v: (v.kind.value, v.version))


def activate_session(versions: Sequence[ModelVersion], session: ModelSession, now: datetime) -> list[ModelVersion]:
    """M15 / DP-20 for every version of the session at once; the versions whose status changed.

    A session with a rejected version is never activated (``session_rejected``), and nothing changes then.
    """
    if any(v.status is ModelStatus.REJECTED for v in session.versions):
        raise RuleConflictError("A rejected model session cannot be activated", code="session_rejected")
    working = list(versions)
    changed: dict[tuple[ModelKind, int], ModelVersion] = {}
    for version in session.versions:
        step = activate(working, version.kind, version.version, now)
        working = merge_versions(working, step)
        changed |= {(v.kind, v.version): v for v in step}
    check_pointers(working)
    return list(changed.values())


def fall_back_all(versions: Sequence[ModelVersion], now: datetime) -> list[ModelVersion]:
    """M16 / DP-20: every kind with a fallback version goes back to it; ``no_fallback`` when no kind has one."""
    kinds = [kind for kind in ModelKind if lineup(versions, kind).fallback is not None]
    if not kinds:
        raise RuleConflictError("No fallback model version to go back to", code="no_fallback")
    working = list(versions)
    changed: list[ModelVersion] = []
    for kind in kinds:
        step = fall_back(working, kind, now)
        working = merge_versions(working, step)
        changed += step
    check_pointers(working)
    return changed
