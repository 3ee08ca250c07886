"""Vocabularies of replicas (§2.4, §3.3)."""

from __future__ import annotations

from enum import StrEnum


class ReplicaKind(StrEnum):
    MANUAL = "manual"
    AUTOMATIC_REBALANCE = "automatic-rebalance"
    AUTOMATIC_TERMINATION = "automatic-termination"


class ReplicaStatus(StrEnum):
    LAUNCHING = "launching"
    SYNCING = "syncing"
    READY = "ready"
    PROMOTED = "promoted"
    TERMINATED = "terminated"
    FAILED = "failed"


NON_TERMINAL_REPLICA = frozenset({ReplicaStatus.LAUNCHING, ReplicaStatus.SYNCING, ReplicaStatus.READY})


class SyncStatus(StrEnum):
    INITIALIZING = "initializing"
    SYNCING = "syncing"
    SYNCED = "synced"
    OUT_OF_SYNC = "out-of-sync"
