"""M16: put every kind's fallback model version back live (DP-20), in one atomic pointer swap."""

from __future__ import annotations

from spotopt.application.decisions.pointer_swap import PointerSwapResult
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.decisions import ModelSessions
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.events import DomainEvent, Severity


class ActivateFallbackModels:
    """- Each kind with a fallback: the fallback goes live, the previous live retires; ``no_fallback`` when no kind
    has one (nothing changes then). Event ``model_fallback_activated`` (warning).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, sessions: ModelSessions) -> None:
        self._uow = uow
        self._clock = clock
        self._sessions = sessions

    async def execute(self) -> PointerSwapResult:
        now = self._clock.now()
        pointers = await self._sessions.fall_back_all(now)
        live = {kind.value: p.live.label for kind, p in pointers.items() if p.live is not None}
        event = DomainEvent(
            type="model_fallback_activated",
            severity=Severity.WARNING,
            message="Fallback model versions are live again: " + ", ".join(f"{k} {v}" for k, v in live.items()),
            metadata={"live": live},
        )
        await record_events(self._uow, [event], now)
        await self._uow.commit()
        return PointerSwapResult(pointers=pointers, activated_at=now, changed=True)
