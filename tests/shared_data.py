"""Locate the read-only shared market data (``/work/shared/data/README.md`` describes it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV_VAR = "SPOTOPT_SHARED_DATA"
_REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    """``$SPOTOPT_SHARED_DATA``, else ``<repo root>/../shared/data``; None when the folder is absent."""
    configured = os.environ.get(ENV_VAR)
    candidate = Path(configured) if configured else _REPO_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def require_shared_file(relative: str) -> Path:
    """The file ``relative`` under the shared data folder; skips the calling test with the reason when absent."""
    root = shared_data_dir()
    if root is None:
        pytest.skip(f"shared market data not found: set {ENV_VAR} or place it at <repo root>/../shared/data")
    path = root / relative
    if not path.is_file():
        pytest.skip(f"shared market data file {relative} not found under {root}")
    return path
