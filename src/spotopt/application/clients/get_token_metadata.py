"""M4: what the operator may know about a client's token: its hint and issue time, never the token (CL-1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.errors import NotFoundError
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class GetTokenMetadataQuery:
    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenMetadata:
    client_id: str
    token_hint: str
    token_issued_at: datetime


class GetTokenMetadata:
    """- The token is stored only as a hash, so it cannot be returned; inactive clients are answered too."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, query: GetTokenMetadataQuery) -> TokenMetadata:
        client = await self._uow.clients.get(ClientId(query.client_id))
        if client is None:
            raise NotFoundError("Client not found")
        return TokenMetadata(
            client_id=client.client_id, token_hint=client.token_hint, token_issued_at=client.token_issued_at
        )
