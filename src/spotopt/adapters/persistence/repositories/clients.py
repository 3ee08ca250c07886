"""Clients and admin tokens (ports in ``application/ports/clients.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select

from spotopt.adapters.persistence.entities import SessionEntities
from spotopt.adapters.persistence.mappers.clients import CLIENTS
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.adapters.persistence.models.system import AdminTokenModel
from spotopt.adapters.persistence.repositories.base import SqlAlchemyRepository
from spotopt.domain.clients.client import Client
from spotopt.domain.shared.ids import ClientId


class SqlAlchemyClientRepository(SqlAlchemyRepository[Client, ClientModel]):
    mapper = CLIENTS

    async def get(self, client_id: ClientId) -> Client | None:
        return await self._one(select(ClientModel).where(ClientModel.client_id == client_id))

    async def get_for_update(self, client_id: ClientId) -> Client | None:
        return await self._locked(select(ClientModel).where(ClientModel.client_id == client_id).with_for_update())

    async def get_by_token_hash(self, token_hash: str) -> Client | None:
        return await self._one(select(ClientModel).where(ClientModel.token_hash == token_hash))

    async def find_by_name(self, name: str) -> Client | None:
        return await self._one(select(ClientModel).where(ClientModel.name_key == name.lower()))

    async def find_by_email(self, email: str) -> Client | None:
        return await self._one(select(ClientModel).where(ClientModel.email == email))

    async def add(self, client: Client) -> None:
        self._db.add(CLIENTS, client)


class SqlAlchemyAdminTokenRepository:
    def __init__(self, entities: SessionEntities) -> None:
        self._db = entities

    async def exists(self, token_hash: str) -> bool:
        stmt = select(exists().where(AdminTokenModel.token_hash == token_hash))
        return bool((await self._db.execute(stmt)).scalar())

    async def add(self, token_hash: str, token_hint: str, created_at: datetime) -> None:
        self._db.session.add(AdminTokenModel(token_hash=token_hash, token_hint=token_hint, created_at=created_at))
