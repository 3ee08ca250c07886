"""Policy store adapters (DP-17, DP-18, DP-22): the stored, versioned documents and a ≤ 5 s cache per process.

Until a document is uploaded (M18) the built-in DP-17 defaults are active (``policy_version`` ``builtin``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spotopt.adapters.persistence.mappers.model_registry import policy_to_domain
from spotopt.adapters.persistence.models.model_registry import PolicyDocumentModel
from spotopt.domain.decisions.policy import PolicyDocument

log = logging.getLogger(__name__)

POLICY_CACHE_SECONDS = 5.0
ACTIVE, FALLBACK, RETIRED = "active", "fallback", "retired"
_P = PolicyDocumentModel


class BuiltinPolicyStore:
    """Serves one fixed document: the DP-17 defaults (``policy_version`` ``builtin``) unless another is given."""

    def __init__(self, document: PolicyDocument | None = None) -> None:
        self._document = document or PolicyDocument()

    async def active(self) -> PolicyDocument:
        return self._document


class SqlPolicyStore:
    """``PolicyStore`` and ``PolicyVersions`` over ``policy_documents``; versions are ``policy-v<n>``."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def active(self) -> PolicyDocument:
        async with self._sessionmaker() as session:
            row = (await session.scalars(select(_P).where(_P.status == ACTIVE))).first()
            return PolicyDocument() if row is None else policy_to_domain(row)

    async def activate_document(self, document: PolicyDocument, now: datetime) -> tuple[PolicyDocument, str | None]:
        async with self._sessionmaker() as session:
            # The pointed rows are locked first, so two uploads swap one after the other (DP-18).
            pointed = (
                await session.scalars(select(_P).where(_P.status.in_((ACTIVE, FALLBACK))).with_for_update())
            ).all()
            top = await session.scalar(select(func.max(_P.version_number)))
            number = (top or 0) + 1
            previous = next((r.policy_version for r in pointed if r.status == ACTIVE), None)
            await session.execute(update(_P).where(_P.status == FALLBACK).values(status=RETIRED))
            await session.execute(update(_P).where(_P.status == ACTIVE).values(status=FALLBACK))
            version = f"policy-v{number}"
            session.add(
                _P(
                    version_number=number,
                    policy_version=version,
                    status=ACTIVE,
                    document=document.to_mapping(),
                    created_at=now,
                    activated_at=now,
                )
            )
            await session.commit()
        return PolicyDocument.from_mapping(document.to_mapping(), version), previous


class CachedPolicyStore:
    """DP-22 for the policy: ``active()`` answers from a cache at most ``ttl`` seconds old; an upload through this
    process clears it. When the store cannot be read, the last known document keeps serving (the built-in one
    before the first read), so decisions never fail because of it.
    """

    def __init__(
        self, store: SqlPolicyStore, ttl: float = POLICY_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._cached: PolicyDocument | None = None
        self._read_at = 0.0

    async def active(self) -> PolicyDocument:
        if self._cached is not None and self._clock() - self._read_at < self._ttl:
            return self._cached
        started = self._clock()
        try:
            document = await self._store.active()
        except Exception:  # the policy must never stop decisions
            log.warning("policy store unreadable; keeping the last known document", exc_info=True)
            return self._cached or PolicyDocument()
        self._cached, self._read_at = document, started
        return document

    async def activate_document(self, document: PolicyDocument, now: datetime) -> tuple[PolicyDocument, str | None]:
        stored = await self._store.activate_document(document, now)
        self._cached = None
        return stored
