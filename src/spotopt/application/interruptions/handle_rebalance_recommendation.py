"""A10: a rebalance recommendation; answers with the episode's state (domain §3.5 V1/V2/V5, §3.7.1)."""

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
class HandleRebalanceRecommendationCommand:
    client_id: ClientId
    agent_id: str
    instance_id: str | None = None
    detected_at: datetime | None = None


class HandleRebalanceRecommendation:
    """- Signal stored first (EP-2); on the primary V1/V2 ensure the replica (§3.7.1), V5 stores only.
    - ``action``: ``standby_ready`` / ``standby_preparing`` / ``no_alternative_pool``; during a ``terminating``
      episode the replica-status code (pitfall 16); ``none`` when the signal is not on the primary (EP-7).
    - One transaction; when it fails for any reason but lock contention (which the retry rule re-runs whole), the
      signal alone is committed in a second one (EP-2, the one documented exception to one transaction).
    """

    def __init__(self, uow: UnitOfWork, signals: SignalHandling) -> None:
        self._uow = uow
        self._signals = signals

    async def execute(self, command: HandleRebalanceRecommendationCommand) -> SignalOutcome:
        received = await self._signals.receive(
            SignalCommand(
                client_id=command.client_id,
                agent_id=command.agent_id,
                kind=SignalKind.REBALANCE,
                instance_id=command.instance_id,
                detected_at=command.detected_at,
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
