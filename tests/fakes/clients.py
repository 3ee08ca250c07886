"""Fakes of the clients ports."""

from __future__ import annotations

import hashlib
from datetime import datetime

from spotopt.domain.clients.client import Client
from spotopt.domain.shared.ids import ClientId
from tests.fakes.store import InMemoryRepository


class StubTokenHasher:
    def __init__(self) -> None:
        self.issued = 0

    def issue_client_token(self) -> str:
        self.issued += 1
        return f"spo_{self.issued:043d}"

    def issue_admin_token(self) -> str:
        self.issued += 1
        return f"spoa_{self.issued:043d}"

    def hash(self, token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class InMemoryClientRepository(InMemoryRepository):
    async def get(self, client_id: ClientId) -> Client | None:
        return self.store.clients.get(client_id)

    async def get_for_update(self, client_id: ClientId) -> Client | None:
        return self.store.clients.get(client_id)

    async def get_by_token_hash(self, token_hash: str) -> Client | None:
        return next((c for c in self.store.clients.values() if c.token_hash == token_hash), None)

    async def find_by_name(self, name: str) -> Client | None:
        return next((c for c in self.store.clients.values() if c.name.lower() == name.lower()), None)

    async def find_by_email(self, email: str) -> Client | None:
        return next((c for c in self.store.clients.values() if c.email == email), None)

    async def add(self, client: Client) -> None:
        self.store.clients[client.client_id] = client


class InMemoryAdminTokenRepository(InMemoryRepository):
    async def exists(self, token_hash: str) -> bool:
        return token_hash in self.store.admin_tokens

    async def add(self, token_hash: str, token_hint: str, created_at: datetime) -> None:
        self.store.admin_tokens.add(token_hash)
