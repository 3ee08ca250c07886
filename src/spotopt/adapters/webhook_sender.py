"""The webhook HTTP client (port ``WebhookSender``): httpx with bounded timeouts, no redirects, nothing logged
but the outcome class.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import httpx

from spotopt.application.ports.notifications import SendOutcome

log = logging.getLogger("spotopt.webhooks")

CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 5.0


class HttpxWebhookSender:
    """One shared ``httpx.AsyncClient`` (APP scope): connection reuse across deliveries, closed on shutdown."""

    def __init__(self, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS, read_timeout: float = READ_TIMEOUT_SECONDS):
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendOutcome:
        try:
            response = await self._client.post(url, content=body, headers=dict(headers))
        except httpx.TimeoutException:
            return SendOutcome(status_code=None, error="timeout")
        except httpx.HTTPError as exc:
            # The exception text may carry the URL (and so a secret query string): report its class only.
            log.info("webhook delivery failed: %s", type(exc).__name__)
            return SendOutcome(status_code=None, error=type(exc).__name__)
        if 200 <= response.status_code < 300:
            return SendOutcome(status_code=response.status_code)
        return SendOutcome(status_code=response.status_code, error=f"HTTP {response.status_code}")

    async def close(self) -> None:
        await self._client.aclose()
