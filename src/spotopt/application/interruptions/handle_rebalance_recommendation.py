"""A10: a rebalance recommendation; answers with the episode's state (domain §3.5 V1/V2/V5, §3.7.1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.interruptions.signal_handling import SignalHandling
from spotopt.application.interruptions.signal_intake import SignalCommand, SignalOutcome
from spotopt.domain.interruptions.values import SignalKind
from spotopt.domain.shared.ids import ClientId


@dataclass(frozen=True, slots=True, kw_only=True)
class HandleRebalanceRecommendationCommand:
    client_id: ClientId
    agent_id: str
    instance_id: str | None = None
    detected_at: datetime | None = None


class HandleRebalanceRecommendation:
    """- Signal stored first (EP-2); on the primary V1/V2 ensure the replica (§3.7.1), V5 stores only.
    - ``action``: ``standby_ready`` / ``standby_preparing`` / ``no_alternative_pool``; during a ``terminating``
      episode the replica-status code (pitfall 16); ``none`` when the signal is not on the primary (EP-7).
    """

    def __init__(self, signals: SignalHandling) -> None:
        self._signals = signals

    async def execute(self, command: HandleRebalanceRecommendationCommand) -> SignalOutcome:
        return await self._signals.receive(
            SignalCommand(
                client_id=command.client_id,
                agent_id=command.agent_id,
                kind=SignalKind.REBALANCE,
                instance_id=command.instance_id,
                detected_at=command.detected_at,
            )
        )
