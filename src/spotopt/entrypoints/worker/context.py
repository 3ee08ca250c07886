"""What SAQ hands every job: its context, holding this worker's container under one key."""

from __future__ import annotations

from typing import Final

from dishka import AsyncContainer
from saq.types import Context

CONTAINER: Final = "spotopt_container"
STARTED: Final = "spotopt_started"


class WorkerContext(Context, total=False):
    spotopt_container: AsyncContainer
    spotopt_started: float
