"""Application errors: not-found, conflicts and unavailable dependencies."""

from __future__ import annotations

from typing import Any

from spotopt.domain.shared.errors import DomainError


class NotFoundError(DomainError):
    """The resource does not exist or is not visible to the caller (→ 404 ``not_found``, CL-4)."""

    code = "not_found"

    def __init__(self, message: str = "Not found", **detail: Any) -> None:
        super().__init__(message, **detail)


class ConflictError(DomainError):
    """The request conflicts with current state (→ 409 with a route-specific code)."""

    code = "conflict"


class AuthenticationError(DomainError):
    """Missing or invalid credential (→ 401)."""

    code = "invalid_token"


class ForbiddenError(DomainError):
    """Valid credential that may not do this (→ 403: ``wrong_realm``, ``client_inactive``, ``client_mismatch``)."""

    code = "forbidden"


class UnavailableError(Exception):
    """A dependency (database, queue, model store) cannot be reached (→ 503 ``unavailable``)."""

    def __init__(self, dependency: str, *, retryable: bool = True) -> None:
        super().__init__(f"{dependency} unavailable")
        self.dependency = dependency
        self.retryable = retryable


class LockContentionError(UnavailableError):
    """A deadlock or lock-wait timeout (CC-5). The entrypoint re-runs the use case in a fresh transaction up to
    3 times; when the retries are exhausted it is answered as 503 ``unavailable`` with ``retryable: true``.
    """

    def __init__(self) -> None:
        super().__init__("database", retryable=True)
