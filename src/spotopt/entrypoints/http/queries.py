"""Query parameters shared by the list routes (api.md §1.4, §1.8), typed so OpenAPI states every constraint.

Litestar validates them before the handler runs; a value out of range or of the wrong type answers the §1.4
``validation_error`` with ``field`` = the parameter name (``errors.py``).
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

from spotopt.domain.shared.errors import InvalidValueError

Limit = Annotated[int, Parameter(ge=1, le=500, description="Page size (§1.8).")]
Offset = Annotated[int, Parameter(ge=0, description="Matches to skip before the page (§1.8).")]
Days = Annotated[int, Parameter(ge=1, le=365, description="Window in days (§1.8).")]
CommaList = Annotated[str | None, Parameter(description="Comma-separated values; omitted = all.")]


def comma_list(name: str, raw: str | None, allowed: frozenset[str] | None = None) -> tuple[str, ...]:
    """A §1.4 comma list: empty items are dropped; with ``allowed``, an unknown value is a 400 on ``name``."""
    if raw is None:
        return ()
    items = tuple(dict.fromkeys(item for item in raw.split(",") if item))
    unknown = [item for item in items if allowed is not None and item not in allowed]
    if unknown:
        raise InvalidValueError(name, f"unknown value {unknown[0]!r}; allowed: {', '.join(sorted(allowed or ()))}")
    return items
