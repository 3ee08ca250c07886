"""Unattached sightings (R-7): instances seen under an agent while its primary is live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId

SIGHTING_EXPIRY = timedelta(hours=24)


@dataclass(eq=False, slots=True)
class UnattachedSighting:
    client_id: ClientId
    instance_id: InstanceId
    agent_id: AgentId
    first_seen_at: datetime
    last_seen_at: datetime
    instance_type: str | None = None
    region: str | None = None
    az: str | None = None
    mode: str | None = None
    ami_id: str | None = None
    private_ip: str | None = None
    public_ip: str | None = None
    warned_on: str | None = None

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, UnattachedSighting)
            and other.client_id == self.client_id
            and other.instance_id == self.instance_id
        )

    def __hash__(self) -> int:
        return hash((self.client_id, self.instance_id))

    def is_expired(self, now: datetime) -> bool:
        return now - self.last_seen_at > SIGHTING_EXPIRY
