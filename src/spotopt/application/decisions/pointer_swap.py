"""What M15 and M16 answer: the sessions behind each kind's pointers after the swap (DP-20, DP-22)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.application.ports.decisions import SessionPointers
from spotopt.domain.decisions.models import ModelKind

PROPAGATION_SECONDS = 5  # DP-22: every process reads the pointers through a cache of at most 5 s


@dataclass(frozen=True, slots=True, kw_only=True)
class PointerSwapResult:
    pointers: dict[ModelKind, SessionPointers]
    activated_at: datetime
    changed: bool
