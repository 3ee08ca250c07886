"""R8: an interruption signal plus "ensure the episode's replica" (domain §3.5, §3.7; api create-emergency-replica)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from spotopt.application.errors import LockContentionError
from spotopt.application.interruptions.signal_handling import SignalHandling
from spotopt.application.interruptions.signal_intake import ReceivedSignal, SignalCommand, SignalOutcome
from spotopt.application.ports.uow import UnitOfWork
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
      (action ``none``); EP-8: it counts in the fleet statistics whatever the agent's settings.
    - Rebalance: V1 (open ``at_risk``), V2 (refresh) or V5 (signal only); the replica is ensured (§3.7.1, RP-6).
    - Notice: V3/V4, deadline (EP-6), ensure, promote now (RP-4a), else fallback, else degraded (RP-4b), else
      scheduled; ``interruption_count + 1``; a failed-over instance gets the replay (EP-4).
    - No settings gate: emergency handling ignores ``enabled`` and the replica mode (§3.6).
    - One transaction; when it fails for any reason but lock contention (which the retry rule re-runs whole), the
      signal alone is committed in a second one (EP-2, the one documented exception to one transaction).
    """

    def __init__(self, uow: UnitOfWork, signals: SignalHandling) -> None:
        self._uow = uow
        self._signals = signals

    async def execute(self, command: HandleInterruptionSignalCommand) -> SignalOutcome:
        received = await self._signals.receive(
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
        try:
            outcome = await self._signals.handle(received)
            await self._uow.commit()
        except LockContentionError:
            raise
        except Exception:
            await self._keep_signal(received)
            raise
        return outcome

    async def _keep_signal(self, received: ReceivedSignal) -> None:
        """EP-2's second transaction; a failure here never hides the original error."""
        try:
            await self._signals.keep_alone(received)
            await self._uow.commit()
        except Exception:  # noqa: S110 - best effort, the original error is what the caller must see
            pass
