"""The table from what a signal did (``SignalOutcome.action``, ``created``) to each route's answer (status, body):
R8 and R9 (pitfall 4), as ``errors.py`` maps errors. A10 always answers 200 with the episode's state.

- R8: 201 when the episode's replica was created in this call, 200 when one already serves it; else 409 with why
  not (``no_replica`` plus ``detail.action``, or ``not_primary`` with the attributed role).
- R9: 200 only for a committed promotion (EP-4, ``success`` true); 202 with ``success`` false while the failover
  is pending; 409 ``no_action_possible`` or ``not_primary``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Response

from spotopt.application.interruptions.signal_intake import SignalOutcome
from spotopt.domain.interruptions.emergency import Action
from spotopt.entrypoints.http.errors import error_response
from spotopt.entrypoints.http.interruptions.schemas import emergency_body, failover_body, pending_failover_body

Body = Response[dict[str, Any]]
NOT_PRIMARY = "not_primary"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    code: str | None = None  # ``detail.code`` of a 409

    @property
    def success(self) -> bool | None:
        """The body's ``success``: true on 200/201, false on 202; a 409 error body has none."""
        return None if self.status >= 400 else self.status != 202


SERVED = Answer(200)  # R8: 201 instead when the replica was created in this call
NO_REPLICA = Answer(409, "no_replica")
NOT_ON_PRIMARY = Answer(409, NOT_PRIMARY)

R8_ANSWERS = {
    Action.STANDBY_READY: SERVED,
    Action.STANDBY_PREPARING: SERVED,
    Action.REPLICA_PROMOTED: SERVED,
    Action.FAILOVER_SCHEDULED: SERVED,
    Action.NO_ALTERNATIVE_POOL: NO_REPLICA,
    Action.ONDEMAND_FALLBACK_QUEUED: NO_REPLICA,
    Action.NO_ACTION_POSSIBLE: NO_REPLICA,
    Action.NONE: NOT_ON_PRIMARY,
}
R9_ANSWERS = {
    Action.REPLICA_PROMOTED: Answer(200),
    Action.FAILOVER_SCHEDULED: Answer(202),
    Action.ONDEMAND_FALLBACK_QUEUED: Answer(202),
    Action.NO_ACTION_POSSIBLE: Answer(409, Action.NO_ACTION_POSSIBLE.value),
    Action.NONE: NOT_ON_PRIMARY,
}


def r8_answer(outcome: SignalOutcome) -> Answer:
    answer = R8_ANSWERS[outcome.action]
    return Answer(201) if answer is SERVED and outcome.created else answer


def r9_answer(outcome: SignalOutcome) -> Answer:
    return R9_ANSWERS[outcome.action]


def r8_response(outcome: SignalOutcome) -> Body:
    answer = r8_answer(outcome)
    if answer.code is not None:
        return _conflict(outcome, answer.code)
    return Response(emergency_body(outcome), status_code=answer.status)


def r9_response(outcome: SignalOutcome) -> Body:
    answer = r9_answer(outcome)
    if answer.code is not None:
        return _conflict(outcome, answer.code)
    body = failover_body(outcome) if answer.success else pending_failover_body(outcome)
    return Response(body, status_code=answer.status)


def _conflict(outcome: SignalOutcome, code: str) -> Body:
    """R8/R9 409: the signal was stored and its effects committed; the body names why nothing (more) happened."""
    if code == NOT_PRIMARY:
        return error_response(
            409, code, "The signal is not attributed to the primary", attributed_role=outcome.attributed_role.value
        )
    detail: dict[str, Any] = {"action": outcome.action.value}
    if outcome.command_id is not None:
        detail["command_id"] = outcome.command_id
    if outcome.episode is not None:
        detail["episode_id"] = outcome.episode.episode_id
    message = "No replica available" if code == NO_REPLICA.code else "No failover action is possible"
    return error_response(409, code, message, **detail)
