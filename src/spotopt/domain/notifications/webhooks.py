"""The outgoing webhook channel of client notifications (domain §7.2 notification fan-out, §8, NT-6, NT-8).

Signature scheme (documented for receivers in ``docs/architecture.md``): the header
``X-Spotopt-Signature: t=<unix seconds>,v1=<hex>`` where ``hex`` is HMAC-SHA256 with the client's webhook secret
over ``"<unix seconds>." + body`` (the exact bytes sent). Receivers recompute it, compare in constant time and
reject stale timestamps. The body never carries a token, a token hash or the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from spotopt.domain.notifications.notification import Notification
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.time import utc_iso

WEBHOOK_CHANNEL = "webhook"
SIGNATURE_HEADER = "X-Spotopt-Signature"
DELIVERY_HEADER = "X-Spotopt-Delivery"
EVENT_HEADER = "X-Spotopt-Event"
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS)
# A claimed attempt is not handed out again for this long (a worker that died mid-send is retried after it).
CLAIM_SECONDS = 60
MAX_URL_LENGTH = 2048


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"


@dataclass(eq=False, slots=True)
class WebhookEndpoint:
    """A client's webhook: where to POST and the secret that signs (never sent, never logged).

    Notifications created at or after ``since`` (when it was configured or last enabled) are delivered.
    """

    client_id: ClientId
    url: str
    secret: str
    enabled: bool
    since: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        validate_url(self.url)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WebhookEndpoint) and other.client_id == self.client_id

    def __hash__(self) -> int:
        return hash(self.client_id)


def validate_url(url: str) -> None:
    if not url.startswith(("https://", "http://")) or len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        raise InvalidValueError("url", f"must be an http(s) URL of at most {MAX_URL_LENGTH} characters")


@dataclass(eq=False, slots=True)
class Delivery:
    """The webhook delivery state of one notification (NT-5 per-channel state): one per (notification, channel)."""

    delivery_id: str
    notification_id: str
    client_id: ClientId
    created_at: datetime
    channel: str = WEBHOOK_CHANNEL
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Delivery) and other.delivery_id == self.delivery_id

    def __hash__(self) -> int:
        return hash(self.delivery_id)

    def is_due(self, now: datetime) -> bool:
        return self.status is DeliveryStatus.PENDING and (self.next_attempt_at is None or self.next_attempt_at <= now)

    def claim(self, now: datetime) -> int:
        """Start attempt ``attempts + 1`` at ``now``; nobody else takes it until the claim lapses."""
        self.attempts += 1
        self.last_attempt_at = now
        self.next_attempt_at = now + timedelta(seconds=CLAIM_SECONDS)
        return self.attempts

    def succeeded(self, now: datetime, status_code: int) -> None:
        self.status = DeliveryStatus.DELIVERED
        self.delivered_at = now
        self.last_status_code = status_code
        self.last_error = None
        self.next_attempt_at = None

    def failed(self, status_code: int | None, error: str) -> bool:
        """§7.2: retries 1 min, 5 min, 30 min and 2 h after the failed attempt; then ``delivery_failed`` (True)."""
        self.last_status_code = status_code
        self.last_error = error[:500]
        if self.attempts >= MAX_ATTEMPTS or self.last_attempt_at is None:
            self.abandon(error)
            return True
        self.next_attempt_at = self.last_attempt_at + RETRY_DELAYS[self.attempts - 1]
        return False

    def abandon(self, error: str) -> None:
        """No further attempt: ``delivery_failed``."""
        self.status = DeliveryStatus.DELIVERY_FAILED
        self.last_error = error[:500]
        self.next_attempt_at = None


def is_success(status_code: int) -> bool:
    return 200 <= status_code < 300


def payload(notification: Notification) -> bytes:
    """The JSON body: the notification as the client reads it on N1 (A.9), nothing secret (NT-6)."""
    body = {
        "id": notification.notification_id,
        "client_id": notification.client_id,
        "agent_id": notification.agent_id,
        "type": notification.type,
        "severity": notification.severity.value,
        "title": notification.title,
        "message": notification.message,
        "created_at": utc_iso(notification.created_at),
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value: ``t=<timestamp>,v1=<HMAC-SHA256(secret, "<timestamp>." + body) in hex>``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does (used by the tests): recompute and compare in constant time."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return False
    return hmac.compare_digest(signature(secret, int(parts["t"]), body), header)
