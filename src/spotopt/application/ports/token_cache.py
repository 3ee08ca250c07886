"""The in-process token → client cache of the auth guard (api.md §1.2; CL-1, CL-2)."""

from __future__ import annotations

from typing import Protocol

from spotopt.domain.shared.ids import ClientId


class TokenCache(Protocol):
    """Token digests of active clients, each kept at most ``ttl_seconds``.

    Only an active client's digest is ever stored. A rotation or deactivation committed by this process evicts the
    client's entries at once; one committed by another process is seen here within ``ttl_seconds`` at the latest
    (the cross-process bound of CL-1/CL-2).
    """

    ttl_seconds: float

    def get(self, digest: str) -> ClientId | None: ...

    def put(self, digest: str, client_id: ClientId) -> None: ...

    def evict_client(self, client_id: ClientId) -> None: ...
