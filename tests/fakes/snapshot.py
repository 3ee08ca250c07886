"""Copies of the in-memory tables that can be put back in place, so a rollback keeps object identity.

Tests hold the entities the fakes hand out (``agent = await world.registered()``) and read them after later use
cases, as code holding an ORM row would. A rollback therefore restores the *same* objects: entities that existed
get their fields reset, added ones disappear, removed ones come back.

Every transaction copies every table, so the copy is kept cheap: the rows' fields are read in bulk, and values are
deep-copied only in tables holding a mutable value (lists, dicts, mutable dataclasses); rows whose annotations
admit none are not even inspected.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from itertools import chain
from operator import attrgetter
from typing import Any

Restore = Callable[[], None]
State = tuple[Any, ...]

_IMMUTABLE_BASES = (str, int, float, bytes, Decimal, datetime, date, time, timedelta, Enum, frozenset, type(None))
_immutable_types: set[type] = {str, int, bool, float, Decimal, datetime, date, frozenset, type(None)}
_mutable_types: set[type] = set()


def _is_immutable(hint: Any) -> bool:
    """Whether every value a field annotated ``hint`` can hold is immutable (scalars, enums, NewTypes of them,
    optionals, frozensets and tuples of them)."""
    supertype = getattr(hint, "__supertype__", None)
    if supertype is not None:
        return _is_immutable(supertype)
    origin = typing.get_origin(hint)
    if origin is None:
        return isinstance(hint, type) and issubclass(hint, _IMMUTABLE_BASES)
    if origin is typing.Literal:
        return True
    if origin in (typing.Union, types.UnionType, frozenset, tuple):
        return all(arg is Ellipsis or _is_immutable(arg) for arg in typing.get_args(hint))
    return False


class _Shape:
    """How to read and write the fields of one dataclass type; ``flat`` when no field can hold a mutable value."""

    __slots__ = ("flat", "names", "read")

    def __init__(self, row_type: type) -> None:
        self.names = tuple(f.name for f in dataclasses.fields(row_type))
        getter = attrgetter(*self.names)
        self.read: Callable[[Any], State] = getter if len(self.names) > 1 else lambda row: (getter(row),)
        try:
            hints = typing.get_type_hints(row_type)
        except (NameError, TypeError):
            hints = {}
        self.flat = bool(hints) and all(_is_immutable(hints[name]) for name in self.names)

    def write(self, row: Any, state: State) -> None:
        for name, value in zip(self.names, state, strict=True):
            object.__setattr__(row, name, value)  # frozen rows too (a no-op: their fields never change)


_shapes: dict[type, _Shape | None] = {}


def _shape(row_type: type) -> _Shape | None:
    if row_type not in _shapes:
        _shapes[row_type] = _Shape(row_type) if dataclasses.is_dataclass(row_type) else None
    return _shapes[row_type]


def _clone(value: Any) -> Any:
    kind = type(value)
    if kind in _immutable_types:
        return value
    if kind not in _mutable_types:
        if issubclass(kind, _IMMUTABLE_BASES):
            _immutable_types.add(kind)
            return value
        _mutable_types.add(kind)
    return copy.deepcopy(value)


class _Rows:
    """The rows of one table and their fields; tables hold rows of one type, read in bulk."""

    __slots__ = ("rows", "shape", "states")

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows
        kinds = set(map(type, rows))
        self.shape = _shape(kinds.pop()) if len(kinds) == 1 else None
        if self.shape is None:
            if any(dataclasses.is_dataclass(row) for row in rows):
                raise TypeError("a fake table holds rows of one dataclass type, or plain values")
            self.states: list[State] = []
            return
        self.states = list(map(self.shape.read, rows))
        if self.shape.flat:
            return
        values = set(map(type, chain.from_iterable(self.states)))
        if not values <= _immutable_types:
            self.states = [tuple(map(_clone, state)) for state in self.states]

    @classmethod
    def unchanging(cls, rows: list[Any]) -> _Rows:
        """Rows that are never changed in place: only which rows there are is remembered."""
        captured = cls([])
        captured.rows = rows
        return captured

    def reset(self) -> None:
        if self.shape is None:
            return
        current = list(map(self.shape.read, self.rows))
        if current == self.states:
            return
        for row, now, then in zip(self.rows, current, self.states, strict=True):
            if now != then:
                self.shape.write(row, then)


def capture(table: dict[Any, Any] | list[Any] | set[Any], *, rows_change: bool = True) -> Restore:
    """Remember ``table`` (its keys, its row objects and, unless ``rows_change`` is False, their fields); the returned
    function puts it back in place."""
    if isinstance(table, dict):
        keys = list(table)
        dict_rows = _Rows(list(table.values())) if rows_change else _Rows.unchanging(list(table.values()))

        def restore_dict() -> None:
            dict_rows.reset()
            table.clear()
            table.update(zip(keys, dict_rows.rows, strict=True))

        return restore_dict
    if isinstance(table, list):
        list_rows = _Rows(list(table)) if rows_change else _Rows.unchanging(list(table))

        def restore_list() -> None:
            list_rows.reset()
            table[:] = list_rows.rows

        return restore_list
    members = set(table)

    def restore_set() -> None:
        table.clear()
        table.update(members)

    return restore_set
