"""The declarative base of every model: advanced-alchemy's ``DefaultBase`` (its registry and naming convention).

Models are plain persistence rows: every column's type is written out, references are foreign keys, and the
many-to-one ``relationship()`` declarations exist only so the unit of work inserts parents before children (it
orders mappers by their relationships, not by foreign keys alone). They are never loaded (``lazy="raise"``):
repositories set the key columns, mappers copy state to and from the domain entities.

Instance ids (an episode's, a signal's, a replica's, a switch's) are plain values except on ledger entries: the
instances are purged 400 days after their termination and those rows live longer (§7.3), and a replica's or a
report's instance need not be a tracked instance at all. Submissions name pools the same way: an invalid item's
pool is never catalogued (PR-5).
"""

from __future__ import annotations

from typing import cast

from advanced_alchemy.base import DefaultBase
from sqlalchemy import Table


class Base(DefaultBase):
    __abstract__ = True


def table_of(model: type[Base]) -> Table:
    """The model's table, typed as one (``__table__`` is declared as a ``FromClause``)."""
    return cast("Table", model.__table__)
