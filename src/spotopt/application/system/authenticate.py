"""Authenticate a bearer token in the client or admin realm (api.md §1.2)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum

from spotopt.application.errors import AuthenticationError, ForbiddenError
from spotopt.application.ports.clients import TokenHasher
from spotopt.application.ports.token_cache import TokenCache
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.ids import ClientId


class Realm(StrEnum):
    CLIENT = "client"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticateQuery:
    token: str | None
    realm: Realm


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    realm: Realm
    client_id: ClientId | None = None


@dataclass(frozen=True, slots=True)
class EnvAdminToken:
    """Hash of ``SPOTOPT_ADMIN_TOKEN`` kept in memory (never the clear token)."""

    token_hash: str | None


class Authenticate:
    """Resolve a token to a principal.

    - No token → 401 ``missing_token``; unknown in both realms → 401 ``invalid_token``.
    - A token of the other realm → 403 ``wrong_realm``; an inactive client's token → 403 ``client_inactive`` (CL-2).
    - Lookup is by SHA-256 hash, digests compared in constant time (CL-1).
    - An active client's digest is answered from the ``TokenCache`` while it is fresh: no query. Rotation or
      deactivation in this process evicts it at once; elsewhere it stops working within the cache's TTL.
    """

    def __init__(self, uow: UnitOfWork, hasher: TokenHasher, env_admin: EnvAdminToken, cache: TokenCache) -> None:
        self._uow = uow
        self._hasher = hasher
        self._env_admin = env_admin
        self._cache = cache

    async def execute(self, query: AuthenticateQuery) -> Principal:
        token = (query.token or "").strip()
        if not token:
            raise AuthenticationError("Missing bearer token", code="missing_token")
        digest = self._hasher.hash(token)
        cached = self._cache.get(digest)
        if cached is not None:
            return self._client_principal(cached, query.realm)
        client = await self._uow.clients.get_by_token_hash(digest)
        if client is not None and hmac.compare_digest(client.token_hash, digest):
            if not client.is_active:
                if query.realm is Realm.ADMIN:
                    raise ForbiddenError("A client token cannot access admin routes", code="wrong_realm")
                raise ForbiddenError("Client is not active", code="client_inactive")
            self._cache.put(digest, client.client_id)
            return self._client_principal(client.client_id, query.realm)
        if await self._is_admin(digest):
            if query.realm is Realm.CLIENT:
                raise ForbiddenError("An admin token cannot access client routes", code="wrong_realm")
            return Principal(realm=Realm.ADMIN)
        raise AuthenticationError("Invalid token", code="invalid_token")

    @staticmethod
    def _client_principal(client_id: ClientId, realm: Realm) -> Principal:
        if realm is Realm.ADMIN:
            raise ForbiddenError("A client token cannot access admin routes", code="wrong_realm")
        return Principal(realm=Realm.CLIENT, client_id=client_id)

    async def _is_admin(self, digest: str) -> bool:
        env_hash = self._env_admin.token_hash
        if env_hash is not None and hmac.compare_digest(env_hash, digest):
            return True
        return await self._uow.admin_tokens.exists(digest)
