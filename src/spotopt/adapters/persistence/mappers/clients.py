"""Client ↔ ``clients`` row."""

from __future__ import annotations

from typing import Any

from spotopt.adapters.persistence.mappers.base import Mapper
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.domain.clients.client import Client, ClientStatus
from spotopt.domain.shared.ids import ClientId


class ClientMapper(Mapper[Client, ClientModel]):
    model = ClientModel

    def identity(self, entity: Client) -> tuple[Any, ...]:
        return (entity.client_id,)

    def to_domain(self, model: ClientModel) -> Client:
        return Client(
            client_id=ClientId(model.client_id),
            name=model.name,
            email=model.email,
            token_hash=model.token_hash,
            token_hint=model.token_hint,
            token_issued_at=model.token_issued_at,
            created_at=model.created_at,
            updated_at=model.updated_at,
            status=ClientStatus(model.status),
            max_agents=model.max_agents,
            plan=model.plan,
            default_auto_switch_enabled=model.default_auto_switch_enabled,
            default_auto_terminate_enabled=model.default_auto_terminate_enabled,
            default_terminate_wait_seconds=model.default_terminate_wait_seconds,
            deleted_at=model.deleted_at,
        )

    def to_model(self, entity: Client, model: ClientModel | None = None) -> ClientModel:
        m = model if model is not None else ClientModel()
        m.client_id = entity.client_id
        m.name = entity.name
        m.email = entity.email
        m.token_hash = entity.token_hash
        m.token_hint = entity.token_hint
        m.token_issued_at = entity.token_issued_at
        m.created_at = entity.created_at
        m.updated_at = entity.updated_at
        m.status = entity.status.value
        m.max_agents = entity.max_agents
        m.plan = entity.plan
        m.default_auto_switch_enabled = entity.default_auto_switch_enabled
        m.default_auto_terminate_enabled = entity.default_auto_terminate_enabled
        m.default_terminate_wait_seconds = entity.default_terminate_wait_seconds
        m.deleted_at = entity.deleted_at
        m.name_key = entity.name.lower()
        return m


CLIENTS = ClientMapper()
