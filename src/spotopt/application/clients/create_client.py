"""Create a client with a fresh token (M1, CLI ``admin create-client``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from spotopt.application.errors import ConflictError
from spotopt.application.ledger.savings_views import SavingsReader
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.clients import TokenHasher
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.clients.client import Client
from spotopt.domain.ledger.entry import MONEY_ZERO
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import ClientId, new_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateClientCommand:
    name: str
    email: str | None = None
    max_agents: int = 5
    plan: str = "free"
    default_auto_switch_enabled: bool = True
    default_auto_terminate_enabled: bool = True
    default_terminate_wait_seconds: int = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateClientResult:
    client: Client
    token: str
    total_savings: Decimal = MONEY_ZERO


class CreateClient:
    """- Name unique case-insensitively (409 ``duplicate_name``); e-mail stored lowercased, unique (``duplicate_email``).
    - The token is shown once and stored as a hash (CL-1); event ``client_created``.
    - ``total_savings`` is read from the ledger like every other figure (CL-5), never assumed.
    """

    def __init__(self, uow: UnitOfWork, hasher: TokenHasher, clock: Clock, reader: SavingsReader) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._reader = reader

    async def execute(self, command: CreateClientCommand) -> CreateClientResult:
        email = _normalise_email(command.email)
        if await self._uow.clients.find_by_name(command.name) is not None:
            raise ConflictError("A client with this name exists", code="duplicate_name")
        if email is not None and await self._uow.clients.find_by_email(email) is not None:
            raise ConflictError("A client with this e-mail exists", code="duplicate_email")
        now = self._clock.now()
        token = self._hasher.issue_client_token()
        client = Client(
            client_id=ClientId(new_id()),
            name=command.name,
            email=email,
            token_hash=self._hasher.hash(token),
            token_hint=token[-4:],
            token_issued_at=now,
            created_at=now,
            updated_at=now,
            max_agents=command.max_agents,
            plan=command.plan,
            default_auto_switch_enabled=command.default_auto_switch_enabled,
            default_auto_terminate_enabled=command.default_auto_terminate_enabled,
            default_terminate_wait_seconds=command.default_terminate_wait_seconds,
        )
        await self._uow.clients.add(client)
        event = DomainEvent("client_created", Severity.INFO, f"Client {client.name} created", client.client_id)
        await record_events(self._uow, [event], now)
        await self._uow.commit()
        totals = await self._reader.totals([client.client_id], now)
        return CreateClientResult(client=client, token=token, total_savings=totals[client.client_id].total_savings)


def _normalise_email(email: str | None) -> str | None:
    if email is None:
        return None
    local, sep, domain = email.partition("@")
    if not sep or not local or not domain or "@" in domain:
        raise InvalidValueError("email", "must contain exactly one @ with non-empty parts")
    return email.lower()
