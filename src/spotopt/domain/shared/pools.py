"""Spot pools and capacity modes: a pool is an instance type in one availability zone (PR-32)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from spotopt.domain.shared.errors import InvalidValueError


class Mode(StrEnum):
    SPOT = "spot"
    ONDEMAND = "ondemand"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PoolId:
    """A spot pool ``<instance_type>.<az>``; the AZ is the text after the last ``.`` (PR-32)."""

    instance_type: str
    az: str

    def __post_init__(self) -> None:
        if not self.instance_type or not self.az or self.instance_type == "unknown" or self.az == "unknown":
            raise InvalidValueError("pool_id", "a pool needs a known instance type and availability zone")

    @classmethod
    def parse(cls, value: str) -> PoolId:
        type_part, sep, az = value.rpartition(".")
        if not sep:
            raise InvalidValueError("pool_id", "must be <instance_type>.<az>")
        return cls(type_part, az)

    @property
    def region(self) -> str:
        return region_of_az(self.az)

    @property
    def name(self) -> str:
        """PR-34 display name."""
        return f"{self.instance_type} ({self.az})"

    def __str__(self) -> str:
        return f"{self.instance_type}.{self.az}"


def region_of_az(az: str) -> str:
    """``us-east-1a`` → ``us-east-1`` (strip the zone letter suffix)."""
    return az.rstrip("abcdefghijklmnopqrstuvwxyz") if az and az[-1].isalpha() else az


def pool_id_for(instance_type: str | None, az: str | None) -> str | None:
    """Pool id for known facts, never built from placeholders (pitfall 13)."""
    if not instance_type or not az or instance_type == "unknown" or az == "unknown":
        return None
    return f"{instance_type}.{az}"
