"""Identifiers (C-5, IN-5): one NewType per aggregate, server-generated UUIDs."""

from __future__ import annotations

import re
import uuid
from typing import NewType

from spotopt.domain.shared.errors import InvalidValueError

ClientId = NewType("ClientId", str)
AgentId = NewType("AgentId", str)
CommandId = NewType("CommandId", str)
ReplicaId = NewType("ReplicaId", str)
EpisodeId = NewType("EpisodeId", str)
SwitchId = NewType("SwitchId", str)
ReportId = NewType("ReportId", str)
InstanceId = NewType("InstanceId", str)

_INSTANCE_ID = re.compile(r"^i-([0-9a-f]{8}|[0-9a-f]{17})$")


def new_id() -> str:
    """A server-generated identifier: UUID v4, lowercase canonical form (C-5)."""
    return str(uuid.uuid4())


def is_instance_id(value: str) -> bool:
    """IN-5: ``i-`` followed by exactly 8 or 17 lowercase hex digits."""
    return bool(_INSTANCE_ID.match(value))


def instance_id(value: str) -> InstanceId:
    if not is_instance_id(value):
        raise InvalidValueError("instance_id", "must be an EC2 instance id (i- and 8 or 17 lowercase hex digits)")
    return InstanceId(value)
