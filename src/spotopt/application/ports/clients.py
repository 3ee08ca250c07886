"""Ports of the clients feature: tenants, admin tokens and token hashing."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from spotopt.domain.clients.client import Client
from spotopt.domain.shared.ids import ClientId


class TokenHasher(Protocol):
    """Issues and hashes bearer tokens (CL-1): tokens are never stored in clear."""

    def issue_client_token(self) -> str: ...

    def issue_admin_token(self) -> str: ...

    def hash(self, token: str) -> str: ...


class ClientRepository(Protocol):
    async def get(self, client_id: ClientId) -> Client | None: ...

    async def get_for_update(self, client_id: ClientId) -> Client | None: ...

    async def get_by_token_hash(self, token_hash: str) -> Client | None: ...

    async def find_by_name(self, name: str) -> Client | None:
        """Case-insensitive name lookup."""
        ...

    async def find_by_email(self, email: str) -> Client | None: ...

    async def add(self, client: Client) -> None: ...


class AdminTokenRepository(Protocol):
    async def exists(self, token_hash: str) -> bool: ...

    async def add(self, token_hash: str, token_hint: str, created_at: datetime) -> None: ...
