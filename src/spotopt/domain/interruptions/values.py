"""Vocabularies of interruption signals and episodes (§2.7, §3.5)."""

from __future__ import annotations

from enum import StrEnum


class EpisodeState(StrEnum):
    AT_RISK = "at_risk"
    TERMINATING = "terminating"
    FAILED_OVER = "failed_over"
    CLEARED = "cleared"
    LOST = "lost"
    SUPERSEDED = "superseded"


OPEN_EPISODE = frozenset({EpisodeState.AT_RISK, EpisodeState.TERMINATING})


class SignalKind(StrEnum):
    REBALANCE = "rebalance"
    TERMINATION = "termination"


class AttributedRole(StrEnum):
    PRIMARY = "primary"
    STANDBY = "standby"
    KEPT_OLD = "kept_old"
    UNKNOWN = "unknown"
