"""Query parsing shared by the client read routes (api.md §1.4, §1.8): booleans and enum comma lists."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, TypeVar

from litestar.params import Parameter

from spotopt.domain.shared.errors import InvalidValueError
from spotopt.entrypoints.http.queries import comma_list

E = TypeVar("E", bound=StrEnum)
Flag = Annotated[
    str | None, Parameter(pattern="^(true|false|1|0)$", description="Boolean: true, false, 1 or 0 (§1.4).")
]
AgentIdFilter = Annotated[str | None, Parameter(max_length=255, description="One of the client's agents.")]
_FLAGS = {"true": True, "1": True, "false": False, "0": False}


def flag(name: str, raw: str | None, default: bool = False) -> bool:
    """§1.4 query booleans: ``true``/``false``/``1``/``0``, else 400 on ``name``."""
    if raw is None:
        return default
    if raw not in _FLAGS:
        raise InvalidValueError(name, "must be true, false, 1 or 0")
    return _FLAGS[raw]


def enum_set(name: str, raw: str | None, kind: type[E]) -> frozenset[E] | None:
    """A comma list of ``kind`` values (None when omitted or empty); an unknown value is a 400 on ``name``."""
    items = comma_list(name, raw, frozenset(member.value for member in kind))
    return frozenset(kind(item) for item in items) or None
