"""Client aggregate (domain §2.1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from spotopt.domain.shared.ids import ClientId


class ClientStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


@dataclass(eq=False, slots=True)
class Client:
    client_id: ClientId
    name: str
    email: str | None
    token_hash: str
    token_hint: str
    token_issued_at: datetime
    created_at: datetime
    updated_at: datetime
    status: ClientStatus = ClientStatus.ACTIVE
    max_agents: int = 5
    plan: str = "free"
    default_auto_switch_enabled: bool = True
    default_auto_terminate_enabled: bool = True
    default_terminate_wait_seconds: int = 300
    deleted_at: datetime | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Client) and other.client_id == self.client_id

    def __hash__(self) -> int:
        return hash(self.client_id)

    @property
    def is_active(self) -> bool:
        """CL-2: an inactive client's token authenticates nothing."""
        return self.status is ClientStatus.ACTIVE

    def rotate_token(self, token_hash: str, token_hint: str, now: datetime) -> None:
        """CL-1: exactly one valid token; the old one dies with this transaction's commit."""
        self.token_hash = token_hash
        self.token_hint = token_hint
        self.token_issued_at = now
        self.updated_at = now

    def deactivate(self, now: datetime) -> None:
        """CL-6 (soft delete)."""
        self.status = ClientStatus.INACTIVE
        if self.deleted_at is None:
            self.deleted_at = now
        self.updated_at = now
