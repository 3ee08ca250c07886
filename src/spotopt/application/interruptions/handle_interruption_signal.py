"""R8: an interruption signal plus "ensure the episode's replica" (domain §3.5, §3.7; api create-emergency-replica)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from spotopt.application.interruptions.signal_handling import SignalHandling
from spotopt.application.interruptions.signal_intake import SignalCommand, SignalOutcome
from spotopt.application.replicas.supply import PoolHints
from spotopt.domain.interruptions.values import SignalKind
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class HandleInterruptionSignalCommand:
    client_id: ClientId
    agent_id: str
    signal_type: SignalKind
    instance_id: str | None = None
    termination_time: datetime | None = None
    detected_at: datetime | None = None
    hints: PoolHints = field(default_factory=PoolHints)


class HandleInterruptionSignal:
    """- EP-2: the signal is stored first; EP-7: a signal not on the primary changes only what EP-7 says
      (``not_primary``); EP-8: it counts in the fleet statistics whatever the agent's settings.
    - Rebalance: V1 (open ``at_risk``), V2 (refresh) or V5 (signal only); the replica is ensured (§3.7.1, RP-6).
    - Notice: V3/V4, deadline (EP-6), ensure, promote now (RP-4a), else fallback, else degraded (RP-4b), else
      scheduled; ``interruption_count + 1``; a failed-over instance gets the replay (EP-4).
    - No settings gate: emergency handling ignores ``enabled`` and the replica mode (§3.6).
    """

    def __init__(self, signals: SignalHandling) -> None:
        self._signals = signals

    async def execute(self, command: HandleInterruptionSignalCommand) -> SignalOutcome:
        return await self._signals.receive(
            SignalCommand(
                client_id=command.client_id,
                agent_id=command.agent_id,
                kind=command.signal_type,
                instance_id=command.instance_id,
                termination_time=command.termination_time,
                detected_at=command.detected_at,
                hints=command.hints,
            )
        )
