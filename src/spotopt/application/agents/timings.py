"""Timing configuration the use cases need (domain §9: every duration is configuration)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AgentTimings:
    heartbeat_timeout: int = 120
    base_lease_seconds: int = 120
