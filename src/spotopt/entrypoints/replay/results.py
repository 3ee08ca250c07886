"""What one replay run reports per policy, and the markdown table of a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from spotopt.entrypoints.replay.cloud import Cloud

_HOUR = Decimal(3600)
_PERCENT = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class ReplayResult:
    policy: str
    duration_seconds: int
    outage_seconds: int
    cost: Decimal  # dollars
    ondemand_cost: Decimal  # dollars for one on-demand instance over the whole window
    preemptions: int  # interruptions that hit the instance carrying the workload
    migrations: int  # changes of the serving instance
    instance_hours: Decimal
    ondemand_hours: Decimal
    note: str = ""

    @property
    def availability_percent(self) -> Decimal:
        served = self.duration_seconds - self.outage_seconds
        return (Decimal(100) * served / self.duration_seconds).quantize(_PERCENT)

    @property
    def cost_percent(self) -> Decimal:
        return (Decimal(100) * self.cost / self.ondemand_cost).quantize(_PERCENT)

    @property
    def outage_minutes(self) -> Decimal:
        return Decimal(self.outage_seconds) / 60

    @classmethod
    def of(cls, policy: str, cloud: Cloud, note: str = "") -> ReplayResult:
        end = cloud.market.duration
        hours = sum((Decimal(i.billed_seconds(end)) / _HOUR for i in cloud.instances), Decimal(0))
        ondemand = sum((Decimal(i.billed_seconds(end)) / _HOUR for i in cloud.instances if i.zone is None), Decimal(0))
        return cls(
            policy=policy,
            duration_seconds=end,
            outage_seconds=cloud.outage_seconds,
            cost=cloud.bill(),
            ondemand_cost=cloud.market.ondemand_price * end / _HOUR,
            preemptions=sum(1 for i in cloud.instances if i.preempted and i.hit_while_primary),
            migrations=cloud.migrations,
            instance_hours=hours,
            ondemand_hours=ondemand,
            note=note,
        )


HEADER = (
    "| policy | availability % | cost % of on-demand | preemptions | migrations | outage min | instance-h | "
    "on-demand h | notes |"
)


def table(results: Sequence[ReplayResult]) -> str:
    rows = [
        f"| {r.policy} | {r.availability_percent:.3f} | {r.cost_percent:.2f} | {r.preemptions} | "
        f"{r.migrations} | {r.outage_minutes:.0f} | {r.instance_hours:.0f} | {r.ondemand_hours:.1f} | {r.note} |"
        for r in results
    ]
    return "\n".join([HEADER, "|---|---|---|---|---|---|---|---|---|", *rows])
