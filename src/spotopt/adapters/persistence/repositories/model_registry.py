"""The database-backed model registry and policy documents (DP-18 – DP-22), shared by every process of a fleet.

Each method is one short transaction of its own, as the ports require: a pointer swap locks the versions of the
kinds it moves (``FOR UPDATE``; SQLite takes its write lock), applies the DP-20 rules of the domain and commits, so
readers see the old pointers or the new ones, never a mix.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spotopt.adapters.persistence.failures import is_database_unavailable, is_lock_contention
from spotopt.adapters.persistence.mappers.model_registry import session_to_domain, version_to_domain, version_to_model
from spotopt.adapters.persistence.models.model_registry import ModelSessionModel, ModelVersionModel
from spotopt.application.errors import LockContentionError, NotFoundError, UnavailableError
from spotopt.application.ports.decisions import SessionFile, SessionPointers, SessionRef
from spotopt.domain.decisions.models import (
    LiveModels,
    ModelKind,
    ModelManifest,
    ModelOrigin,
    ModelStatus,
    ModelVersion,
    activate,
    fall_back,
    lineup,
    reject,
)
from spotopt.domain.decisions.sessions import (
    ModelSession,
    VersionExistsError,
    activate_session,
    fall_back_all,
    merge_versions,
)

_V = ModelVersionModel
_S = ModelSessionModel
_POINTED = (ModelStatus.LIVE.value, ModelStatus.FALLBACK.value)
_ATTEMPTS = 3  # a concurrent registration took the next version number or the label: read again
_Rule = Callable[[list[ModelVersion]], list[ModelVersion]]


class SqlModelRegistry:
    """``ModelRegistry`` and ``ModelSessions`` over the ``model_sessions`` / ``model_versions`` tables."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    # --- ModelRegistry (the trainer, the live-model source) -------------------------------------------------

    async def register_candidate(self, manifest: ModelManifest, now: datetime) -> ModelVersion:
        """A trained candidate is a session of its own (origin ``trained``, M17)."""
        for attempt in range(_ATTEMPTS):
            try:
                async with self._transaction() as session:
                    same = await self._same_artifact(session, manifest)
                    if same is not None:
                        return same
                    label = manifest.label
                    if await session.scalar(select(_S.session_id).where(_S.label == label)) is not None:
                        label = f"{manifest.label[:51]}-{manifest.content_hash[:12]}"
                    file = SessionFile(manifest=manifest, file_name=f"{manifest.kind.value}.cbm", size_bytes=0)
                    created = await self._insert_session(session, label, manifest.origin, manifest.notes, [file], now)
                    await session.commit()
                    return created.versions[0]
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise UnavailableError("model registry") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def activate(self, kind: ModelKind, version: int, now: datetime) -> LiveModels:
        return await self._swap([kind], lambda vs: activate(vs, kind, version, now), kind)

    async def fall_back(self, kind: ModelKind, now: datetime) -> LiveModels:
        return await self._swap([kind], lambda vs: fall_back(vs, kind, now), kind)

    async def reject(self, kind: ModelKind, version: int, now: datetime) -> ModelVersion:
        async with self._transaction() as session:
            versions = await self._locked(session, [kind])
            (changed,) = reject(versions, kind, version, now)
            await self._write_statuses(session, [changed])
            await session.commit()
        return changed

    async def live(self) -> dict[ModelKind, LiveModels]:
        async with self._transaction() as session:
            rows = (await session.scalars(select(_V).where(_V.status.in_(_POINTED)))).all()
        versions = [version_to_domain(r) for r in rows]
        return {kind: lineup(versions, kind) for kind in ModelKind}

    async def list_versions(self, kind: ModelKind | None = None) -> Sequence[ModelVersion]:
        stmt = select(_V) if kind is None else select(_V).where(_V.kind == kind.value)
        async with self._transaction() as session:
            rows = (await session.scalars(stmt)).all()
        versions = [version_to_domain(r) for r in rows]
        return sorted(versions, key=lambda v: (v.registered_at, v.kind.value, v.version), reverse=True)

    # --- ModelSessions (M14 – M17) ----------------------------------------------------------------------------

    async def add_session(
        self, *, label: str, origin: ModelOrigin, notes: str, files: Sequence[SessionFile], now: datetime
    ) -> tuple[ModelSession, bool]:
        wanted = frozenset((f.manifest.kind, f.manifest.content_hash) for f in files)
        for attempt in range(_ATTEMPTS):
            try:
                async with self._transaction() as session:
                    existing = await self._session_by(session, _S.label == label)
                    if existing is not None:
                        if existing.contents != wanted:
                            raise VersionExistsError(f"Model session {label} exists with other content", version=label)
                        return existing, False
                    created = await self._insert_session(session, label, origin, notes, files, now)
                    await session.commit()
                    return created, True
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise UnavailableError("model registry") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def activate_session(self, session_id: str, now: datetime) -> dict[ModelKind, SessionPointers]:
        async with self._transaction() as session:
            target = await self._session_by(session, _S.session_id == session_id)
            if target is None:
                raise NotFoundError(f"No model session {session_id}", session_id=session_id)
            kinds = sorted({v.kind for v in target.versions})
            versions = await self._locked(session, kinds)
            current = ModelSession(
                session_id=target.session_id, label=target.label, origin=target.origin, created_at=target.created_at,
                versions=tuple(v for v in versions if v.session_id == session_id),
            )  # fmt: skip
            changed = activate_session(versions, current, now)
            if changed:
                await self._write_statuses(session, changed)
                row = await session.get_one(_S, session_id)
                row.activated_at = now
            pointers = await self._pointers(session, merge_versions(versions, changed))
            await session.commit()
        return pointers

    async def fall_back_all(self, now: datetime) -> dict[ModelKind, SessionPointers]:
        async with self._transaction() as session:
            versions = await self._locked(session, list(ModelKind))
            changed = fall_back_all(versions, now)
            await self._write_statuses(session, changed)
            for session_id in {v.session_id for v in changed if v.status is ModelStatus.LIVE}:
                (await session.get_one(_S, session_id)).activated_at = now
            pointers = await self._pointers(session, merge_versions(versions, changed))
            await session.commit()
        return pointers

    async def get_session(self, session_id: str) -> ModelSession | None:
        async with self._transaction() as session:
            return await self._session_by(session, _S.session_id == session_id)

    async def list_sessions(
        self, statuses: frozenset[ModelStatus], limit: int, offset: int
    ) -> tuple[list[ModelSession], int]:
        # Status is derived from the versions (A.12); the session count stays small (a few a day), so the filter
        # runs here over the sessions' current versions.
        async with self._transaction() as session:
            rows = (await session.scalars(select(_S).order_by(_S.created_at.desc(), _S.session_id.desc()))).all()
            versions = (await session.scalars(select(_V))).all()
        by_session: dict[str, list[ModelVersionModel]] = {}
        for v in versions:
            by_session.setdefault(v.session_id, []).append(v)
        sessions = [session_to_domain(r, by_session.get(r.session_id, [])) for r in rows]
        chosen = [s for s in sessions if not statuses or s.status in statuses]
        return chosen[offset : offset + limit], len(chosen)

    # --- helpers ----------------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessionmaker() as session:
                yield session
        except DBAPIError as exc:
            if isinstance(exc, IntegrityError):
                raise
            if is_lock_contention(exc):
                raise LockContentionError from None
            if is_database_unavailable(exc):
                raise UnavailableError("database") from None
            raise

    async def _swap(self, kinds: list[ModelKind], rule: _Rule, kind: ModelKind) -> LiveModels:
        async with self._transaction() as session:
            versions = await self._locked(session, kinds)
            changed = rule(versions)
            await self._write_statuses(session, changed)
            await session.commit()
        return lineup(merge_versions(versions, changed), kind)

    async def _locked(self, session: AsyncSession, kinds: Iterable[ModelKind]) -> list[ModelVersion]:
        stmt = select(_V).where(_V.kind.in_([k.value for k in kinds])).with_for_update()
        return [version_to_domain(r) for r in (await session.scalars(stmt)).all()]

    async def _write_statuses(self, session: AsyncSession, changed: Sequence[ModelVersion]) -> None:
        for version in changed:
            row = await session.get_one(_V, (version.kind.value, version.version))
            row.status = version.status.value
            row.status_changed_at = version.status_changed_at
        await session.flush()

    async def _same_artifact(self, session: AsyncSession, manifest: ModelManifest) -> ModelVersion | None:
        stmt = select(_V).where(_V.kind == manifest.kind.value, _V.content_hash == manifest.content_hash)
        row = (await session.scalars(stmt.order_by(_V.version_number))).first()
        return None if row is None else version_to_domain(row)

    async def _session_by(self, session: AsyncSession, where: object) -> ModelSession | None:
        row = (await session.scalars(select(_S).where(where))).first()  # type: ignore[arg-type]
        if row is None:
            return None
        versions = (await session.scalars(select(_V).where(_V.session_id == row.session_id))).all()
        return session_to_domain(row, versions)

    async def _insert_session(
        self,
        session: AsyncSession,
        label: str,
        origin: ModelOrigin,
        notes: str,
        files: Sequence[SessionFile],
        now: datetime,
    ) -> ModelSession:
        session_id = str(uuid.uuid4())
        session.add(_S(session_id=session_id, label=label, origin=origin.value, notes=notes or None, created_at=now))
        await session.flush()
        versions: list[ModelVersion] = []
        for file in files:
            kind = file.manifest.kind
            top = await session.scalar(select(func.max(_V.version_number)).where(_V.kind == kind.value))
            version = ModelVersion(
                kind=kind, version=(top or 0) + 1, manifest=file.manifest, status=ModelStatus.CANDIDATE,
                registered_at=now, status_changed_at=now, session_id=session_id, size_bytes=file.size_bytes,
                file_name=file.file_name,
            )  # fmt: skip
            session.add(version_to_model(version))
            await session.flush()
            versions.append(version)
        return ModelSession(
            session_id=session_id, label=label, origin=origin, created_at=now, versions=tuple(versions), notes=notes
        )

    async def _pointers(
        self, session: AsyncSession, versions: Sequence[ModelVersion]
    ) -> dict[ModelKind, SessionPointers]:
        ids = {v.session_id for v in versions if v.status.value in _POINTED and v.session_id}
        rows = (await session.execute(select(_S.session_id, _S.label).where(_S.session_id.in_(ids)))).all()
        labels = {str(row[0]): str(row[1]) for row in rows}

        def ref(version: ModelVersion | None) -> SessionRef | None:
            if version is None or version.session_id is None:
                return None
            return SessionRef(
                session_id=version.session_id, label=labels.get(version.session_id, ""), version=version.version
            )

        return {
            kind: SessionPointers(live=ref(lineup(versions, kind).live), fallback=ref(lineup(versions, kind).fallback))
            for kind in ModelKind
        }
