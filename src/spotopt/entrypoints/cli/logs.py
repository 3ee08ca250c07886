"""Process-wide logging for the long-running commands."""

from __future__ import annotations

import logging

from spotopt.bootstrap.settings import Settings


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("spotopt").setLevel(logging.DEBUG if settings.debug else logging.INFO)
    # our after_process hook logs each job once; SAQ's own per-job lines would repeat it
    logging.getLogger("saq").setLevel(logging.DEBUG if settings.debug else logging.WARNING)
