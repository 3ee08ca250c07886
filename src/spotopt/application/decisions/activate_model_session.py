"""M15: make a model session's versions live in one atomic pointer swap (DP-20, DP-22)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.decisions.pointer_swap import PointerSwapResult
from spotopt.application.errors import NotFoundError
from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.decisions import ModelArtifacts, ModelSessions
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.events import DomainEvent, Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivateModelSessionCommand:
    session_id: str


class ActivateModelSession:
    """- Every artefact of the session must still pass its hash check (``artifact_missing`` otherwise, nothing
      moves); a rejected session is refused (``session_rejected``).
    - The previous live version of each kind becomes the fallback, the previous fallback retires (DP-20).
    - Activating the live session again changes nothing and records no event.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, artifacts: ModelArtifacts, sessions: ModelSessions) -> None:
        self._uow = uow
        self._clock = clock
        self._artifacts = artifacts
        self._sessions = sessions

    async def execute(self, command: ActivateModelSessionCommand) -> PointerSwapResult:
        session = await self._sessions.get_session(command.session_id)
        if session is None:
            raise NotFoundError(f"No model session {command.session_id}", session_id=command.session_id)
        for version in session.versions:
            await self._artifacts.read(version.content_hash)  # ArtifactMissingError → 409 artifact_missing
        now = self._clock.now()
        already_live = session.is_live
        pointers = await self._sessions.activate_session(session.session_id, now)
        if not already_live:
            event = DomainEvent(
                type="model_activated",
                severity=Severity.INFO,
                message=f"Model session {session.label} is live: " + ", ".join(v.name for v in session.versions),
                metadata={"session_id": session.session_id, "version": session.label},
            )
            await record_events(self._uow, [event], now)
            await self._uow.commit()
        activated_at = session.activated_at if already_live and session.activated_at is not None else now
        return PointerSwapResult(pointers=pointers, activated_at=activated_at, changed=not already_live)
