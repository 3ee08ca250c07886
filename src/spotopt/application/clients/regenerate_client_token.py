"""Rotate a client's token (M3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.errors import ConflictError, NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.clients import TokenHasher
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.events import DomainEvent, NotificationSpec, Severity
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class RegenerateClientTokenCommand:
    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RegenerateClientTokenResult:
    client_id: ClientId
    token: str
    token_hint: str
    token_issued_at: datetime


class RegenerateClientToken:
    """- CL-1: the new hash replaces the old in one transaction; the old token fails from the commit on.
    - An inactive client cannot be given a token (409 ``client_inactive``).
    - Event ``token_rotated`` and notification N-token-rotated.
    """

    def __init__(self, uow: UnitOfWork, hasher: TokenHasher, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock

    async def execute(self, command: RegenerateClientTokenCommand) -> RegenerateClientTokenResult:
        client = await self._uow.clients.get_for_update(ClientId(command.client_id))
        if client is None:
            raise NotFoundError("Client not found")
        if not client.is_active:
            raise ConflictError("Client is not active", code="client_inactive")
        now = self._clock.now()
        token = self._hasher.issue_client_token()
        client.rotate_token(self._hasher.hash(token), token[-4:], now)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        notification = NotificationSpec(
            "token-rotated",
            Severity.WARNING,
            "Client token rotated",
            f"A new client token was issued at {stamp}. Agents still using the old token are rejected until "
            "they are updated.",
            f"token_rotated:{client.client_id}:{now.isoformat()}",
        )
        event = DomainEvent(
            "token_rotated", Severity.WARNING, "Client token rotated", client.client_id, notification=notification
        )
        await record_events(self._uow, [event], now)
        await self._uow.commit()
        return RegenerateClientTokenResult(
            client_id=client.client_id, token=token, token_hint=client.token_hint, token_issued_at=now
        )
