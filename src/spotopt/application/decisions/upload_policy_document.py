"""M18: a new decision-policy document version, validated against its schema and activated (DP-17, DP-18)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.decisions import ModelRegistry, PolicyStore, PolicyVersions
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.decisions.policy import EngineKind, PolicyDocument
from spotopt.domain.shared.events import DomainEvent, Severity

_UNSAVED = "unsaved"


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadPolicyDocumentCommand:
    document: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadPolicyDocumentResult:
    policy: PolicyDocument
    created: bool
    activated_at: datetime | None
    previous_policy_version: str | None
    warnings: tuple[str, ...] = field(default_factory=tuple)


class UploadPolicyDocument:
    """- The document is data: unknown keys and out-of-range values reject it whole (400), nothing is stored.
    - A document identical to the active one changes nothing (200, the active version).
    - Otherwise it becomes the next version and is activated by an atomic swap; the previous active version is
      the fallback; processes pick it up within 5 s (DP-22). Event ``policy_activated``.
    - Warns when ``engine_kind`` is ``catboost`` and no risk model is live (the rule estimator serves, DP-3).
    """

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        policies: PolicyStore,
        versions: PolicyVersions,
        registry: ModelRegistry,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policies = policies
        self._versions = versions
        self._registry = registry

    async def execute(self, command: UploadPolicyDocumentCommand) -> UploadPolicyDocumentResult:
        document = PolicyDocument.from_mapping(command.document, _UNSAVED)
        warnings = await self._warnings(document)
        active = await self._policies.active()
        if active.to_mapping() == document.to_mapping():
            return UploadPolicyDocumentResult(
                policy=active, created=False, activated_at=None, previous_policy_version=None, warnings=warnings
            )
        now = self._clock.now()
        stored, previous = await self._versions.activate_document(document, now)
        event = DomainEvent(
            type="policy_activated",
            severity=Severity.INFO,
            message=f"Decision policy {stored.policy_version} ({stored.engine_kind.value}) is active",
            metadata={
                "policy_version": stored.policy_version,
                "engine_kind": stored.engine_kind.value,
                "previous_policy_version": previous,
            },
        )
        await record_events(self._uow, [event], now)
        await self._uow.commit()
        return UploadPolicyDocumentResult(
            policy=stored, created=True, activated_at=now, previous_policy_version=previous, warnings=warnings
        )

    async def _warnings(self, document: PolicyDocument) -> tuple[str, ...]:
        if document.engine_kind is not EngineKind.CATBOOST:
            return ()
        live = await self._registry.live()
        missing = [kind.value for kind in ModelKind if (p := live.get(kind)) is None or p.live is None]
        return tuple(
            f"engine_kind catboost without a live {kind} model: the rule estimator serves it" for kind in missing
        )
