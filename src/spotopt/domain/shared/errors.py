"""Domain errors: rule violations the caller can act on."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every business-rule error.

    ``code`` is the stable snake_case code of the wire (api.md §1.5); ``detail`` carries the state that
    conflicts.
    """

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.detail = detail


class InvalidValueError(DomainError):
    """A value breaks a domain validity rule (→ 400 ``validation_error``)."""

    code = "validation_error"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"Invalid {field}: {reason}", field=field, reason=reason)
        self.field = field
        self.reason = reason


class RuleConflictError(DomainError):
    """The operation conflicts with the current state (→ 409)."""

    code = "conflict"


class UnusableTargetError(DomainError):
    """A well-formed request refers to something unusable (→ 422)."""

    code = "unprocessable"


class SettingDisabledError(DomainError):
    """An agent setting forbids the operation (→ 403 ``setting_disabled``)."""

    code = "setting_disabled"
