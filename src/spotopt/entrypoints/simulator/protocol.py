"""Agent v4.0.0 on the wire (agent-v4-wire.md): the headers and the bodies it sends.

Every builder returns exactly the keys agent v4 sends (W02, §3.1 – §3.15); ``answers`` reads the replies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

AGENT_VERSION = "4.0.0"
USER_AGENT = "python-requests/2.31.0"
SHUTDOWN: Mapping[str, object] = {"status": "offline", "monitored_instances": []}
MANUAL_PRIORITY = 50  # W16: priority >= 50 labels the switch report "manual", else "model"


@dataclass(frozen=True, slots=True)
class InstanceFacts:
    """What the agent reads from instance metadata (W08: pool ids are ``<instance_type>.<az>``)."""

    instance_id: str
    instance_type: str
    region: str
    az: str
    mode: str  # "spot" | "ondemand"
    ami_id: str = "ami-0c55b159cbfafe1f0"
    private_ip: str = "10.0.1.23"

    @property
    def pool_id(self) -> str | None:
        return f"{self.instance_type}.{self.az}" if self.mode == "spot" else None

    @property
    def hostname(self) -> str:
        return "ip-" + self.private_ip.replace(".", "-")

    def moved(self, instance_id: str, *, az: str, mode: str, private_ip: str) -> InstanceFacts:
        """The new instance of a switch or a replica: same AMI and type (type changes are not supported)."""
        return replace(self, instance_id=instance_id, az=az, mode=mode, private_ip=private_ip)


def headers(token: str) -> dict[str, str]:
    """W02: on every request, GETs included."""
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "User-Agent": USER_AGENT}


def iso(moment: datetime) -> str:
    """Agent timestamps: ISO-8601 with ``+00:00`` (§3.6, §3.7)."""
    return moment.astimezone(UTC).isoformat()


def notice_time(moment: datetime) -> str:
    """The instance-action time as the metadata service gives it: whole seconds, ``Z`` (§3.12)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def az_of(pool_id: str) -> str:
    """W08: the AZ is the text after the last ``.``."""
    return pool_id.rsplit(".", 1)[-1]


def register_body(token: str, logical_agent_id: str, instance: InstanceFacts) -> dict[str, object]:
    """§3.1 (W10: ``client_token`` also in the body, ``public_ip`` null without a public IPv4)."""
    return {
        "client_token": token,
        "hostname": instance.hostname,
        "instance_id": instance.instance_id,
        "instance_type": instance.instance_type,
        "region": instance.region,
        "az": instance.az,
        "ami_id": instance.ami_id,
        "agent_version": AGENT_VERSION,
        "logical_agent_id": logical_agent_id,
        "mode": instance.mode,
        "private_ip": instance.private_ip,
        "public_ip": None,
    }


def heartbeat_body(instance: InstanceFacts, *, enabled: bool = True) -> dict[str, object]:
    """§3.2: ``online``, or ``disabled`` while the config says ``enabled: false``."""
    return {
        "status": "online" if enabled else "disabled",
        "monitored_instances": [instance.instance_id],
        "instance_id": instance.instance_id,
        "instance_type": instance.instance_type,
        "mode": instance.mode,
        "az": instance.az,
    }


def pricing_report_body(
    instance: InstanceFacts,
    *,
    on_demand_price: float,
    spot_pools: Sequence[tuple[str, float]],
    collected_at: datetime,
) -> dict[str, object]:
    """§3.6: ``spot_pools`` lists every available AZ with a price; spot-only fields are null on on-demand."""
    pools = [
        {"pool_id": f"{instance.instance_type}.{az}", "instance_type": instance.instance_type, "az": az, "price": price}
        for az, price in spot_pools
    ]
    on_spot = instance.mode == "spot"
    own = next((price for az, price in spot_pools if az == instance.az), None) if on_spot else None
    low = min(spot_pools, key=lambda pool: pool[1]) if on_spot and spot_pools else None
    cheapest = {"pool_id": f"{instance.instance_type}.{low[0]}", "price": low[1]} if low else None
    return {
        "instance": {
            "instance_id": instance.instance_id,
            "instance_type": instance.instance_type,
            "region": instance.region,
            "az": instance.az,
            "mode": instance.mode,
            "pool_id": instance.pool_id,
        },
        "pricing": {
            "on_demand_price": on_demand_price,
            "current_spot_price": own,
            "cheapest_pool": cheapest,
            "spot_pools": pools,
            "collected_at": iso(collected_at),
        },
    }


def _facts(instance: InstanceFacts) -> dict[str, object]:
    return {
        "instance_id": instance.instance_id,
        "instance_type": instance.instance_type,
        "region": instance.region,
        "az": instance.az,
        "ami_id": instance.ami_id,
        "mode": instance.mode,
        "pool_id": instance.pool_id,
    }


@dataclass(frozen=True, slots=True)
class SwitchTiming:
    initiated: datetime
    launched: datetime
    ready: datetime
    traffic_switched: datetime
    old_terminated: datetime | None = None


def switch_report_body(
    old: InstanceFacts,
    new: InstanceFacts,
    *,
    prices: Mapping[str, float | None],
    timing: SwitchTiming,
    priority: int,
) -> dict[str, object]:
    """§3.7: ``prices`` and the agent's timing names, ``snapshot`` always unused, no ``command_id`` (W23, W24)."""
    times = {
        "switch_initiated_at": iso(timing.initiated),
        "new_instance_launched_at": iso(timing.launched),
        "new_instance_ready_at": iso(timing.ready),
        "traffic_switched_at": iso(timing.traffic_switched),
    }
    if timing.old_terminated is not None:
        times["old_instance_terminated_at"] = iso(timing.old_terminated)
    return {
        "old_instance": _facts(old),
        "new_instance": _facts(new),
        "snapshot": {"used": False},
        "prices": {key: value for key, value in prices.items() if key == "on_demand" or value is not None},
        "timing": times,
        "trigger": "manual" if priority >= MANUAL_PRIORITY else "model",
    }


def ack_body(*, success: bool, message: str) -> dict[str, object]:
    """§3.5: after every executed command, failures included."""
    return {"success": success, "message": message}


def replica_register_body(instance_id: str, *, parent_instance_id: str, pool_id: str) -> dict[str, object]:
    """§3.8: the R1 register form, after a ``create_replica`` command."""
    return {
        "instance_id": instance_id,
        "replica_type": "manual",
        "parent_instance_id": parent_instance_id,
        "pool_id": pool_id,
        "status": "launching",
    }


def replica_syncing_body(now: datetime) -> dict[str, object]:
    return {"status": "syncing", "sync_started_at": iso(now)}


def replica_ready_body(now: datetime) -> dict[str, object]:
    """§3.9: sent even when the readiness wait failed."""
    return {"status": "ready", "sync_completed_at": iso(now)}


def replica_failed_body(message: str) -> dict[str, object]:
    return {"status": "failed", "error_message": message}


def attach_body(instance_id: str) -> dict[str, object]:
    """§3.11: right after launching."""
    return {"instance_id": instance_id, "status": "syncing"}


def rebalance_signal_body(instance_id: str) -> dict[str, object]:
    """§3.12, rebalance form."""
    return {"signal_type": "rebalance-recommendation", "instance_id": instance_id}


def termination_signal_body(instance_id: str, termination_time: datetime) -> dict[str, object]:
    """§3.12, termination-notice form (immediately followed by §3.14)."""
    return {
        "signal_type": "termination-notice",
        "instance_id": instance_id,
        "termination_time": notice_time(termination_time),
    }


def rebalance_recommendation_body(instance_id: str, detected_at: datetime) -> dict[str, object]:
    """§3.13, right after the rebalance form of §3.12."""
    return {"instance_id": instance_id, "detected_at": iso(detected_at)}


def termination_imminent_body(instance_id: str, termination_time: datetime, detected_at: datetime) -> dict[str, object]:
    """§3.14."""
    return {
        "instance_id": instance_id,
        "termination_time": notice_time(termination_time),
        "detected_at": iso(detected_at),
    }


def cleanup_body(now: datetime) -> dict[str, object]:
    """§3.15: the hourly cleanup result; nothing tagged for deletion in the simulated account."""
    return {
        "timestamp": iso(now),
        "snapshots": {"type": "snapshots", "deleted": [], "failed": [], "cutoff_date": iso(now - timedelta(days=7))},
        "amis": {
            "type": "amis",
            "deleted_amis": [],
            "deleted_snapshots": [],
            "failed": [],
            "cutoff_date": iso(now - timedelta(days=30)),
        },
    }
