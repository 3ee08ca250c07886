"""R9: a termination notice; promote now or report the action taken (domain §3.5 V3/V4, §3.7.2; EP-4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.interruptions.signal_handling import SignalHandling
from spotopt.application.interruptions.signal_intake import SignalCommand, SignalOutcome
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
    - 200 only when a promotion committed for the notice's episode, in this call or earlier (replay, EP-4, W36);
      202 ``failover_scheduled`` / ``ondemand_fallback_queued`` (W37); 409 ``no_action_possible`` / ``not_primary``.
    - Repeats never promote twice (W38): the latest episode of a failed-over instance answers the recorded result.
    """

    def __init__(self, signals: SignalHandling) -> None:
        self._signals = signals

    async def execute(self, command: HandleTerminationImminentCommand) -> SignalOutcome:
        return await self._signals.receive(
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
