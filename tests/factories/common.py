"""Shared constants of the builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from spotopt.domain.shared.ids import InstanceId

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
OLD = InstanceId("i-0a1b2c3d4e5f67890")
NEW = InstanceId("i-0f9e8d7c6b5a43210")
THIRD = InstanceId("i-03e4f5a6b7c8d9e0f")
OLD_POOL = "t3.medium.us-east-1a"
NEW_POOL = "t3.medium.us-east-1d"
LOGICAL = "web-prod-01"


def later(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)
