"""Configure (or disable) a client's outgoing webhook channel (domain §7.2 fan-out); admin CLI only."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from spotopt.application.errors import NotFoundError
from spotopt.application.ports.notifications import WebhookStore
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.notifications.webhooks import WebhookEndpoint, validate_url
from spotopt.domain.shared.ids import ClientId

SECRET_PREFIX = "whsec_"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigureWebhookCommand:
    client_id: str
    url: str | None = None
    """None disables the channel (the URL and secret are kept)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigureWebhookResult:
    client_id: ClientId
    enabled: bool
    secret: str | None
    """The new signing secret, shown once; None when the channel was disabled."""


class ConfigureWebhook:
    """- The client must exist (404 otherwise); its row is locked first (CC-2).
    - A URL sets the endpoint, issues a new signing secret (32 random bytes, shown once) and enables it; only
      notifications created from now on are delivered (no back-fill flood).
    - No URL disables the channel; pending deliveries then fail without being sent.
    """

    def __init__(self, uow: UnitOfWork, webhooks: WebhookStore, clock: Clock) -> None:
        self._uow = uow
        self._webhooks = webhooks
        self._clock = clock

    async def execute(self, command: ConfigureWebhookCommand) -> ConfigureWebhookResult:
        client = await self._uow.clients.get_for_update(ClientId(command.client_id))
        if client is None:
            raise NotFoundError("Client not found")
        now = self._clock.now()
        endpoint = await self._webhooks.endpoint(client.client_id)
        if command.url is None:
            if endpoint is not None and endpoint.enabled:
                endpoint.enabled = False
                endpoint.updated_at = now
                await self._uow.commit()
            return ConfigureWebhookResult(client_id=client.client_id, enabled=False, secret=None)
        validate_url(command.url)
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        if endpoint is None:
            endpoint = WebhookEndpoint(
                client_id=client.client_id, url=command.url, secret=secret, enabled=True, since=now, updated_at=now
            )
            await self._webhooks.add_endpoint(endpoint)
        else:
            endpoint.url, endpoint.secret, endpoint.updated_at = command.url, secret, now
            if not endpoint.enabled:
                endpoint.enabled, endpoint.since = True, now
        await self._uow.commit()
        return ConfigureWebhookResult(client_id=client.client_id, enabled=True, secret=secret)
