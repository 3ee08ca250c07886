"""Request shapes and bodies of the interruption routes R8, R9, A10 (api.md §4, §3 A10; agent v4 W32 – W38).

Unknown body fields are ignored (§1.4). Which body a route answers with is decided in ``answers.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from spotopt.application.interruptions.signal_intake import SignalOutcome
from spotopt.entrypoints.http.wire import Ec2Id, dt
from spotopt.entrypoints.http.wire_objects import replica_response

Text255 = Annotated[str, msgspec.Meta(max_length=255)]
Zones = Annotated[list[Annotated[str, msgspec.Meta(max_length=32)]], msgspec.Meta(max_length=50)]


class EmergencyReplicaRequest(msgspec.Struct, kw_only=True):
    signal_type: Literal["rebalance-recommendation", "termination-notice"]
    instance_id: Ec2Id | None = None
    termination_time: datetime | None = None
    detected_at: datetime | None = None
    pool_id: Text255 | None = None
    preferred_zones: Zones | None = None
    exclude_zones: Zones | None = None
    client_token: str | None = None


class TerminationImminentRequest(msgspec.Struct, kw_only=True):
    instance_id: Ec2Id | None = None
    termination_time: datetime | None = None
    detected_at: datetime | None = None
    replica_id: Text255 | None = None
    client_token: str | None = None


class RebalanceRequest(msgspec.Struct, kw_only=True):
    instance_id: Ec2Id | None = None
    detected_at: datetime | None = None
    notice_time: datetime | None = None
    client_token: str | None = None


def emergency_body(outcome: SignalOutcome) -> dict[str, Any]:
    """R8 2xx: the Replica object plus ``urgency``, the episode and the action (W32-W34)."""
    replica = outcome.replica
    body: dict[str, Any] = {"success": True, "created": outcome.created}
    if replica is not None:
        body.update(replica_response(replica, outcome.now))
    episode = outcome.episode
    body.update(
        replica_id=replica.replica_id if replica is not None else None,
        replica_instance_id=replica.instance_id if replica is not None else None,
        urgency="critical" if outcome.kind.value == "termination" else "high",
        episode_id=episode.episode_id if episode is not None else None,
        episode_state=episode.state.value if episode is not None else None,
        action=outcome.action.value,
    )
    return body


def failover_body(outcome: SignalOutcome) -> dict[str, Any]:
    """R9 200: a promotion committed for the notice's episode, now or earlier (W36)."""
    episode, promotion = outcome.episode, outcome.promotion
    replica = outcome.replica
    return {
        "success": True,
        "action": outcome.action.value,
        "message": "Automatic failover completed",
        "new_instance_id": promotion.new_instance_id if promotion else episode.new_instance_id if episode else None,
        "old_instance_id": episode.instance_id if episode is not None else None,
        "replica_id": replica.replica_id if replica is not None else None,
        "episode_id": episode.episode_id if episode is not None else None,
        "deadline": dt(episode.deadline) if episode is not None else None,
        "failover_ms": episode.failover_ms if episode is not None else None,
        "degraded": episode.degraded if episode is not None else False,
    }


def pending_failover_body(outcome: SignalOutcome) -> dict[str, Any]:
    """R9 202: the notice is accepted but the failover is not complete (``success`` false, EP-4, W37)."""
    episode, replica = outcome.episode, outcome.replica
    if outcome.action.value == "failover_scheduled" and replica is not None:
        message = (
            f"Replica {replica.replica_id} is {replica.status.value}; it will be promoted when ready or 30 s "
            "before the deadline"
        )
    else:
        message = f"No replica is possible; an emergency switch to on-demand was queued ({outcome.command_id})"
    return {
        "success": False,
        "action": outcome.action.value,
        "message": message,
        "episode_id": episode.episode_id if episode is not None else None,
        "deadline": dt(episode.deadline) if episode is not None else None,
        "replica_id": replica.replica_id if replica is not None else None,
        "command_id": outcome.command_id if outcome.action.value == "ondemand_fallback_queued" else None,
    }


def rebalance_body(outcome: SignalOutcome) -> dict[str, Any]:
    """A10 200 (W35): episode fields null when the signal is not on the primary."""
    episode, replica = outcome.episode, outcome.replica
    return {
        "success": True,
        "action": outcome.action.value,
        "episode_id": episode.episode_id if episode is not None else None,
        "episode_state": episode.state.value if episode is not None else None,
        "replica_id": replica.replica_id if replica is not None else None,
        "replica_status": replica.status.value if replica is not None else None,
        "pool_id": replica.pool_id if replica is not None else None,
        "attributed_role": outcome.attributed_role.value,
    }
