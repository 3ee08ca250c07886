"""Job arguments as msgspec Structs: SAQ kwargs are JSON primitives, validated like an HTTP body (house style §6)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


class TickPayload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A scheduled job's run: the tick it belongs to (JB-1); absent = the current tick of its schedule."""

    tick: AwareDatetime | None = None
