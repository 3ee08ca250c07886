"""Immediate in-process eviction of cached tokens (CL-1, CL-2): any write of a client row through this engine.

A client's token rotates or it is deactivated. Its cached digests are evicted when the change is flushed and again when it commits, so no request of this
process can re-cache the old token between the two. Another process's change reaches this one by the cache's TTL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapper, object_session

from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.application.ports.token_cache import TokenCache
from spotopt.domain.shared.ids import ClientId

_CREDENTIALS = ("token_hash", "status", "deleted_at")


def _credentials_changed(target: ClientModel) -> bool:
    """SQLAlchemy calls ``after_update`` for every dirty model, also without a net change: only a changed token,
    status or deletion matters.
    """
    state = inspect(target)
    return any(state.attrs[name].history.has_changes() for name in _CREDENTIALS)


class ClientChangeWatcher:
    """Listens to client-row writes on one engine; ``close`` removes the (global, per-mapper) listeners."""

    def __init__(self, engine: AsyncEngine, cache: TokenCache) -> None:
        self._engine = engine.sync_engine
        self._cache = cache
        event.listen(ClientModel, "after_update", self._on_update)
        event.listen(ClientModel, "after_delete", self._on_delete)

    def _on_update(self, _mapper: Mapper[Any], connection: Connection, target: ClientModel) -> None:
        if _credentials_changed(target):
            self._on_delete(_mapper, connection, target)

    def _on_delete(self, _mapper: Mapper[Any], connection: Connection, target: ClientModel) -> None:
        if connection.engine is not self._engine:
            return
        client_id = ClientId(target.client_id)
        self._cache.evict_client(client_id)
        session = object_session(target)
        if session is not None:
            event.listen(session, "after_commit", lambda _s: self._evict_after_commit(client_id), once=True)

    def _evict_after_commit(self, client_id: ClientId) -> None:
        self._cache.evict_client(client_id)

    def close(self) -> None:
        for name, fn in (("after_update", self._on_update), ("after_delete", self._on_delete)):
            if event.contains(ClientModel, name, fn):
                event.remove(ClientModel, name, fn)
