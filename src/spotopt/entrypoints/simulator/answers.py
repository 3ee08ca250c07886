"""How agent v4.0.0 reads the server's answers (agent-v4-wire.md W04, W11, W16, W29, W32, W36): it accepts what
agent v4 accepts and ignores what it ignores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DeliveredCommand:
    """The fields of an A4 item agent v4 acts on (W16)."""

    id: str
    command_type: str
    target_mode: str
    target_pool_id: str | None
    terminate_wait_seconds: int
    priority: int


@dataclass(frozen=True, slots=True)
class LaunchRequest:
    """An R2 item agent v4 launches (W29)."""

    id: str
    pool_id: str
    az: str


def registered(body: object) -> tuple[str, bool] | None:
    """§3.1 / W04 / W11: a 2xx body is a success only if it is a non-empty object with a string ``agent_id``;
    ``config.enabled`` defaults to true.
    """
    if not isinstance(body, dict) or not body or not isinstance(body.get("agent_id"), str) or not body["agent_id"]:
        return None
    config = body.get("config")
    enabled = config.get("enabled", True) if isinstance(config, dict) else True
    return body["agent_id"], bool(enabled)


def _items(body: object, keys: Sequence[str]) -> list[Any]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in keys:
            if isinstance(body.get(key), list):
                return list(body[key])
    return []


def first_command(body: object) -> DeliveredCommand | None:
    """§3.4: a list, or the list under ``commands`` / ``pending_commands`` / ``data``; only the first item is
    executed. A switch without a top-level ``target_mode`` is skipped without an ack.
    """
    items = _items(body, ("commands", "pending_commands", "data"))
    if not items or not isinstance(items[0], dict) or not items[0].get("id"):
        return None
    item = items[0]
    kind = item.get("command_type") or "switch"
    mode = item.get("target_mode")
    if kind == "switch" and not mode:
        return None
    pool = item.get("target_pool_id") or None
    if kind == "switch" and mode == "spot" and pool is None:
        mode = "ondemand"  # §3.4: a "spot" switch without a pool launches on-demand
    return DeliveredCommand(
        id=str(item["id"]),
        command_type=str(kind),
        target_mode=str(mode or "spot"),
        target_pool_id=pool,
        terminate_wait_seconds=int(item.get("terminate_wait_seconds") or 0),
        priority=int(item.get("priority") or 0),
    )


def launch_requests(body: object) -> list[LaunchRequest]:
    """§3.10: a list or ``replicas``; items without a non-empty ``id``, ``pool_id`` and ``az`` are skipped."""
    return [
        LaunchRequest(id=item["id"], pool_id=item["pool_id"], az=item["az"])
        for item in _items(body, ("replicas",))
        if isinstance(item, dict) and all(isinstance(item.get(k), str) and item[k] for k in ("id", "pool_id", "az"))
    ]


def succeeded(body: object) -> bool:
    """W32/W36: only an explicit ``success: true`` counts."""
    return isinstance(body, dict) and body.get("success") is True
