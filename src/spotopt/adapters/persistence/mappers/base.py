"""What every per-aggregate mapper provides, and the small conversions they share."""

from __future__ import annotations

import copy
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from spotopt.adapters.persistence.models.base import Base

E = TypeVar("E")
M = TypeVar("M", bound=Base)


class Mapper(ABC, Generic[E, M]):
    """``to_domain`` / ``to_model`` of one aggregate, written out field by field (house style §5)."""

    model: type[M]

    @abstractmethod
    def to_domain(self, model: M) -> E: ...

    @abstractmethod
    def to_model(self, entity: E, model: M | None = None) -> M:
        """Copy the entity's state onto ``model`` (a new one when None); unchanged values write nothing."""

    @abstractmethod
    def identity(self, entity: E) -> tuple[Any, ...]:
        """The entity's primary key, in the model's key-column order."""

    def refresh(self, entity: E, model: M) -> None:
        """Bring ``entity`` up to ``model`` in place, so every reference to it sees the row just read."""
        fresh = self.to_domain(model)
        for f in dataclasses.fields(fresh):  # type: ignore[arg-type]
            setattr(entity, f.name, getattr(fresh, f.name))


def json_copy(value: Any) -> Any:
    """JSON documents are copied both ways: a document shared by entity and model would change both at once, and
    the model could never see the change (SQLAlchemy compares the new value with the old one it holds).
    """
    return copy.deepcopy(value)


def text_or_none(value: Decimal | datetime | None) -> str | None:
    """Decimals and times inside JSON documents are stored as text."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def decimal_or_none(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def datetime_or_none(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def sorted_values(values: Iterable[Any]) -> list[Any]:
    """A set of enum values (or strings) as a sorted JSON list."""
    return sorted(str(v) for v in values)


def value_or_none(member: StrEnum | None) -> str | None:
    """An optional enum member as its stored value."""
    return None if member is None else member.value
