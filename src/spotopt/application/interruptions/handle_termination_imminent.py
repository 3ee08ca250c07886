"""R9: a termination notice; promote now or report the action taken (domain §3.5 V3/V4, §3.7.2; EP-4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.errors import LockContentionError
from spotopt.application.interruptions.signal_handling import SignalHandling
from spotopt.application.interruptions.signal_intake import ReceivedSignal, SignalCommand, SignalOutcome
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.interruptions.values import SignalKind
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class HandleTerminationImminentCommand:
    client_id: ClientId
    agent_id: str
    instance_id: str | None = None
    termination_time: datetime | None = None
    detected_at: datetime | None = None
    replica_id: str | None = None


class HandleTerminationImminent:
    """- As R8 with a termination notice (§3.7.2 steps 1-6); the preferred ``replica_id`` wins when it satisfies RP-4.
    - ``replica_promoted`` only when a promotion committed for the notice's episode, in this call or earlier
      (replay, EP-4, W36); else ``failover_scheduled`` / ``ondemand_fallback_queued`` (W37), ``no_action_possible``,
      or ``none`` when the notice is not on the primary (EP-7).
    - Repeats never promote twice (W38): the latest episode of a failed-over instance answers the recorded result.
    - One transaction; when it fails for any reason but lock contention (which the retry rule re-runs whole), the
      signal alone is committed in a second one (EP-2, the one documented exception to one transaction).
    """

    def __init__(self, uow: UnitOfWork, signals: SignalHandling) -> None:
        self._uow = uow
        self._signals = signals

    async def execute(self, command: HandleTerminationImminentCommand) -> SignalOutcome:
        received = await self._signals.receive(
            SignalCommand(
                client_id=command.client_id,
                agent_id=command.agent_id,
                kind=SignalKind.TERMINATION,
                instance_id=command.instance_id,
                termination_time=command.termination_time,
                detected_at=command.detected_at,
                preferred_replica_id=command.replica_id,
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
