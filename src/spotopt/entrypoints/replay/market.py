"""The simulated spot market of the replay: per-zone capacity traces and prices.

A trace file is the public availability format ``{"metadata": {"gap_seconds": N}, "data": [count, ...]}``; a
zone is obtainable during a tick when ``count >= 1`` (a one-instance workload). Times are integer seconds from the
start of the replay window.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from spotopt.domain.shared.pools import region_of_az

# AWS list price of p3.2xlarge (Linux, on-demand) in us-east-1, us-east-2 and us-west-2.
P3_2XLARGE_ONDEMAND = Decimal("3.06")
# The public spot price page names some regions its own way.
_PAGE_REGIONS = {
    "us-east": "us-east-1",
    "us-west": "us-west-1",
    "eu-ireland": "eu-west-1",
    "apac-sin": "ap-southeast-1",
    "apac-syd": "ap-southeast-2",
    "apac-tokyo": "ap-northeast-1",
}


class MarketDataError(ValueError):
    """A trace or price file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Zone:
    """One availability zone's capacity trace (one flag per tick) and its spot price ($/h)."""

    name: str
    obtainable: tuple[bool, ...]
    spot_price: Decimal

    @property
    def region(self) -> str:
        return region_of_az(self.name)


@dataclass(frozen=True, slots=True)
class Market:
    """Zones with traces of equal length and tick; ``ondemand_price`` is the baseline ($/h)."""

    zones: tuple[Zone, ...]
    gap_seconds: int
    ondemand_price: Decimal
    instance_type: str = "p3.2xlarge"
    _downs: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)
    _by_name: dict[str, Zone] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.zones:
            raise MarketDataError("a market needs at least one zone")
        lengths = {len(z.obtainable) for z in self.zones}
        if len(lengths) != 1 or 0 in lengths:
            raise MarketDataError("every zone trace must have the same, non-zero length")
        if self.gap_seconds <= 0 or self.ondemand_price <= 0:
            raise MarketDataError("gap_seconds and the on-demand price must be positive")
        if len({z.name for z in self.zones}) != len(self.zones):
            raise MarketDataError("zone names must be unique")
        for zone in self.zones:
            self._by_name[zone.name] = zone
            # Start of every tick at which the zone cannot launch: preemptions and lookups use them.
            downs = tuple(i * self.gap_seconds for i, ok in enumerate(zone.obtainable) if not ok)
            self._downs[zone.name] = downs

    @property
    def ticks(self) -> int:
        return len(self.zones[0].obtainable)

    @property
    def duration(self) -> int:
        return self.ticks * self.gap_seconds

    @property
    def zone_names(self) -> tuple[str, ...]:
        return tuple(z.name for z in self.zones)

    def zone(self, name: str) -> Zone:
        return self._by_name[name]

    def obtainable(self, zone: str, t: int) -> bool:
        tick = min(t // self.gap_seconds, self.ticks - 1)
        return self._by_name[zone].obtainable[tick]

    def next_unobtainable(self, zone: str, t: int) -> int:
        """The first time >= ``t`` at which the zone cannot host an instance (the trace end if never)."""
        downs = self._downs[zone]
        start = t - t % self.gap_seconds
        i = bisect.bisect_left(downs, start)
        return max(downs[i], t) if i < len(downs) else self.duration

    def share_obtainable(self, zone: str) -> float:
        flags = self.zone(zone).obtainable
        return sum(flags) / len(flags)

    def window(self, start_tick: int, end_tick: int | None = None) -> Market:
        """The market restricted to ticks ``[start_tick, end_tick)`` (times restart at 0)."""
        zones = tuple(Zone(z.name, z.obtainable[start_tick:end_tick], z.spot_price) for z in self.zones)
        return Market(zones, self.gap_seconds, self.ondemand_price, self.instance_type)

    def only(self, names: Sequence[str]) -> Market:
        zones = tuple(z for z in self.zones if z.name in names)
        return Market(zones, self.gap_seconds, self.ondemand_price, self.instance_type)


def load_spot_prices(path: Path, instance_type: str) -> dict[str, Decimal]:
    """Region → Linux spot price of ``instance_type`` from a public spot price page snapshot."""
    try:
        page = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MarketDataError(f"cannot read spot prices from {path}: {exc}") from exc
    prices: dict[str, Decimal] = {}
    for region, types in page.items():
        linux = types.get(instance_type, {}).get("Linux") if isinstance(types, Mapping) else None
        try:
            price = Decimal(str(linux))
        except ArithmeticError:
            continue  # "N/A*": not sold there
        if price.is_finite() and price > 0:
            prices[_PAGE_REGIONS.get(region, region)] = price
    return prices


def load_market(
    trace_dir: Path,
    prices: Mapping[str, Decimal],
    *,
    ondemand_price: Decimal = P3_2XLARGE_ONDEMAND,
    instance_type: str = "p3.2xlarge",
) -> Market:
    """Every ``<az>_<gpu>_<n>.json`` trace of a folder as one market; each zone priced by its region."""
    files = sorted(trace_dir.glob("*.json"))
    if not files:
        raise MarketDataError(f"no trace files in {trace_dir}")
    gaps: set[int] = set()
    zones: list[Zone] = []
    for path in files:
        try:
            raw = json.loads(path.read_text())
            gaps.add(int(raw["metadata"]["gap_seconds"]))
            flags = tuple(int(count) >= 1 for count in raw["data"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MarketDataError(f"malformed trace {path}: {exc}") from exc
        name = path.name.split("_", 1)[0]
        price = prices.get(region_of_az(name))
        if price is None:
            raise MarketDataError(f"no spot price for the region of {name}")
        zones.append(Zone(name, flags, price))
    if len(gaps) != 1:
        raise MarketDataError(f"traces in {trace_dir} disagree on gap_seconds: {sorted(gaps)}")
    return Market(tuple(zones), gaps.pop(), ondemand_price, instance_type)
