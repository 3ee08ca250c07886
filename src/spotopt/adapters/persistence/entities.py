"""The request's ``AsyncSession`` as identity map and unit of work for the domain entities (house style §5, §7).

Each loaded or added model carries the entity built from it (in its ``InstanceState.info``). Loading the same row
twice gives the same model (the session's identity map), hence the same entity. Every flush first copies each
carried entity onto its model (``to_model``), and SQLAlchemy's attribute history turns what changed into UPDATEs
of the changed columns only. The ``carried`` table only keeps those models alive (the identity map holds its
models weakly) and says which models to copy onto; it takes no snapshots and computes no differences.

The copy is explicit in ``flush`` rather than a ``before_flush`` hook: SQLAlchemy skips a flush (and its hooks)
when no model looks changed, which is exactly the case of an entity changed since it was loaded.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from advanced_alchemy.exceptions import AdvancedAlchemyError
from sqlalchemy import Executable, event, inspect
from sqlalchemy.engine import Result
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from spotopt.adapters.persistence.failures import is_lock_contention
from spotopt.adapters.persistence.mappers.base import Mapper
from spotopt.adapters.persistence.models.base import Base
from spotopt.application.errors import ConflictError, LockContentionError, UnavailableError

E = TypeVar("E")
M = TypeVar("M", bound=Base)

_ENTITY = "spotopt.entity"
_CARRIED = "spotopt.carried"
log = logging.getLogger("spotopt.persistence")


@dataclass(slots=True)
class _Carried:
    mapper: Mapper[Any, Any]
    entity: Any
    model: Base


class SessionEntities:
    """Loads, adds and flushes domain entities through one session; repositories share one instance."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        sync = session.sync_session
        if _CARRIED not in sync.info:
            sync.info[_CARRIED] = {}
            # Whoever rolls the transaction back (the unit of work, the scope closing), nothing carried survives it.
            event.listen(sync, "after_soft_rollback", _forget_after_rollback)

    @property
    def _carried(self) -> dict[int, _Carried]:
        carried: dict[int, _Carried] = self.session.sync_session.info[_CARRIED]
        return carried

    # --- reading ------------------------------------------------------------------------------------------------

    def load(self, mapper: Mapper[E, M], model: M) -> E:
        """The entity of a model the session returned: the one it already carries, else a new one."""
        state = inspect(model)
        carried: _Carried | None = state.info.get(_ENTITY)
        if carried is not None:
            entity: E = carried.entity
            return entity
        entity = mapper.to_domain(model)
        self._carry(mapper, entity, model)
        return entity

    async def execute(self, stmt: Executable) -> Result[Any]:
        with translated():
            return await self.session.execute(stmt)

    async def execute_many(self, stmt: Executable, params: list[dict[str, Any]]) -> Result[Any]:
        with translated():
            return await self.session.execute(stmt, params)

    async def one(self, mapper: Mapper[E, M], stmt: Executable) -> E | None:
        model = (await self.execute(stmt)).scalars().first()
        return None if model is None else self.load(mapper, model)

    async def many(self, mapper: Mapper[E, M], stmt: Executable) -> list[E]:
        return [self.load(mapper, model) for model in (await self.execute(stmt)).scalars()]

    async def locked(self, mapper: Mapper[E, M], stmt: Executable) -> E | None:
        """A locking read (CC-3): pending changes are written first, then the locked row's current state replaces
        the model's and the entity is brought up to it in place (the references the use case holds see it too).
        """
        await self.flush()
        model = (await self.execute(stmt.execution_options(populate_existing=True))).scalars().first()
        if model is None:
            return None
        carried: _Carried | None = inspect(model).info.get(_ENTITY)
        if carried is None:
            return self.load(mapper, model)
        mapper.refresh(carried.entity, model)
        entity: E = carried.entity
        return entity

    async def detached(self, mapper: Mapper[E, M], stmt: Executable) -> list[E]:
        """Entities of a bulk read, built from the rows as stored and not carried: nothing is written back (the
        caller writes explicitly, with set-based statements).
        """
        result = await self.execute(stmt.execution_options(populate_existing=True))
        return [mapper.to_domain(model) for model in result.scalars()]

    # --- writing ------------------------------------------------------------------------------------------------

    def add(self, mapper: Mapper[E, M], entity: E) -> None:
        """Insert the entity at the next flush; adding an entity already attached is a no-op."""
        present = self.model_of(mapper, entity)
        if present is not None:
            carried: _Carried | None = inspect(present).info.get(_ENTITY)
            if carried is not None and carried.entity is entity:
                return
            raise ConflictError("The change conflicts with existing data", code="conflict")
        model = mapper.to_model(entity)
        self._carry(mapper, entity, model)
        self.session.add(model)

    def model_of(self, mapper: Mapper[E, M], entity: E) -> M | None:
        """The model of the entity's row in this session (loaded or pending), without a query."""
        key = self.session.sync_session.identity_key(mapper.model, mapper.identity(entity))
        found = self.session.sync_session.identity_map.get(key)
        if found is not None:
            model: M = found
            return model
        wanted = mapper.identity(entity)
        for pending in self.session.new:
            carried: _Carried | None = inspect(pending).info.get(_ENTITY)
            if isinstance(pending, mapper.model) and carried is not None and mapper.identity(carried.entity) == wanted:
                return pending
        return None

    async def delete(self, mapper: Mapper[E, M], entity: E) -> None:
        """Delete the entity's row now (it is gone for every later read of the transaction)."""
        model = self.model_of(mapper, entity)
        if model is None:
            model = await self.session.get(mapper.model, mapper.identity(entity))
        if model is None:
            return
        self._carried.pop(id(model), None)
        inspect(model).info.pop(_ENTITY, None)
        await self.session.delete(model)
        await self.flush()

    async def flush(self) -> None:
        """Write every pending change; a unique or foreign key refusing it is a ``ConflictError`` (CC-7)."""
        for item in self._carried.values():
            item.mapper.to_model(item.entity, item.model)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            log.warning("a key rejected a write: %s", _constraint(exc))
            raise ConflictError("The change conflicts with existing data", code="conflict") from exc
        except DBAPIError as exc:
            if is_lock_contention(exc):
                raise LockContentionError from exc
            raise

    async def flush_new(self) -> None:
        """Insert the pending new rows before a Core statement that may reference them (no-op when none)."""
        if self.session.new:
            await self.flush()

    async def commit(self) -> None:
        await self.flush()
        try:
            await self.session.commit()
        except IntegrityError as exc:
            log.warning("a key rejected a write: %s", _constraint(exc))
            raise ConflictError("The change conflicts with existing data", code="conflict") from exc
        except OperationalError as exc:
            if is_lock_contention(exc):
                raise LockContentionError from exc
            raise UnavailableError("database") from exc

    async def rollback(self) -> None:
        """Discard everything: the transaction, and every entity the session carried (none is written later)."""
        _forget(self.session.sync_session)
        with contextlib.suppress(DBAPIError):  # the connection may already be gone; the scope discards it
            await self.session.rollback()
        self.session.expunge_all()

    def _carry(self, mapper: Mapper[E, M], entity: E, model: M) -> None:
        carried = _Carried(mapper, entity, model)
        inspect(model).info[_ENTITY] = carried
        self._carried[id(model)] = carried


def _forget(session: Session) -> None:
    carried: dict[int, _Carried] = session.info[_CARRIED]
    for item in carried.values():
        inspect(item.model).info.pop(_ENTITY, None)
    carried.clear()


def _forget_after_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the transaction itself, not a SAVEPOINT within it
        _forget(session)


@contextmanager
def translated() -> Iterator[None]:
    """advanced-alchemy's and the driver's errors as the rest of the service classifies them.

    A repository error of advanced-alchemy is replaced by the SQLAlchemy error it wraps (so an outage is still an
    outage, 503); a lock wait that ran out is ``LockContentionError`` (CC-5).
    """
    try:
        yield
    except AdvancedAlchemyError as exc:
        cause = exc.__cause__
        if isinstance(cause, DBAPIError) and is_lock_contention(cause):
            raise LockContentionError from cause
        if isinstance(cause, Exception):
            raise cause from exc
        raise
    except DBAPIError as exc:
        if is_lock_contention(exc):
            raise LockContentionError from exc
        raise


def _constraint(exc: IntegrityError) -> str:
    """The driver's one-line reason (constraint name), for the server log only — never for a response."""
    args = getattr(exc.orig, "args", ())
    return str(args[-1] if args else exc.orig)[:300]
