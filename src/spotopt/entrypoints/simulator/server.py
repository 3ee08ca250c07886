"""An embedded ``spotopt serve`` for a fleet run: its own data directory (SQLite, embedded Valkey, one in-process
job worker), a generated admin token, a free loopback port; stopped with SIGTERM (then SIGKILL) at the end.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True, slots=True)
class RunningServer:
    url: str
    admin_token: str
    pid: int
    log: Path
    database_url: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; log: {log}\n{_tail(log)}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code in (200, 503):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /health within {timeout:.0f} s; log: {log}\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


@contextmanager
def embedded_server(
    extra_env: Mapping[str, str] | None = None, keep_dir: Path | None = None
) -> Iterator[RunningServer]:
    """``spotopt serve`` with background jobs on, as an operator starts it with no database or Redis configured."""
    with tempfile.TemporaryDirectory(prefix="spotopt-sim-") as tmp:
        data = keep_dir or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        port, token = free_port(), "sim-admin-" + secrets.token_hex(24)
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DB_HOST"}},
            "SPOTOPT_DATA_DIR": str(data),
            "SPOTOPT_ADMIN_TOKEN": token,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            **(extra_env or {}),
        }
        log = data / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "spotopt.entrypoints.cli.main", "serve"], env=env, stdout=out, stderr=out
            )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, log)
            yield RunningServer(url, token, process.pid, log, f"sqlite+aiosqlite:///{data / 'spotopt.db'}")
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], grace: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
