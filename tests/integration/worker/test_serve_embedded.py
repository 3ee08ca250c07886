"""``spotopt serve`` with nothing configured: embedded SQLite, embedded Valkey and one in-process worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_SECONDS = 60.0
ADMIN_TOKEN = "serve-test-admin-token-0123456789abcdefghijklmnop"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def processes_in(directory: Path) -> list[int]:
    """Processes whose working directory is ``directory`` (valkey-server runs in its data dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd == str(directory):
            found.append(int(entry.name))
    return found


def background_jobs_once_running(base: str) -> str | None:
    """H1 ``background_jobs`` as soon as it says ``running`` (or the last value seen when it never does)."""
    deadline = time.monotonic() + START_SECONDS
    seen: str | None = None
    while time.monotonic() < deadline:
        try:
            seen = httpx.get(f"{base}/health", timeout=2).json()["components"]["background_jobs"]
        except httpx.HTTPError:
            seen = None
        if seen == "running":
            break
        time.sleep(0.5)
    return seen


def test_serve_runs_jobs_in_process_on_an_embedded_valkey_and_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "DB_HOST"}}
    env |= {
        "SPOTOPT_DATA_DIR": str(tmp_path),
        "SPOTOPT_JOB_PERIODS": "monitor_agent_health=1",
        "SPOTOPT_ADMIN_TOKEN": ADMIN_TOKEN,
        "ENABLE_BACKGROUND_JOBS": "true",
    }
    command = [sys.executable, "-m", "spotopt.entrypoints.cli.main", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        base = f"http://127.0.0.1:{port}"
        jobs = background_jobs_once_running(base)
        dashboard = httpx.get(f"{base}/saq/api/queues", auth=("admin", ADMIN_TOKEN), timeout=5)
        valkeys = processes_in(tmp_path / "valkey")
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
        output = server.stdout.read().decode(errors="replace") if server.stdout else ""

    assert jobs == "running", output
    assert dashboard.status_code == 200, output
    assert [q["name"] for q in dashboard.json()["queues"]] == ["spotopt"]
    assert "one in-process worker on an embedded Valkey" in output
    assert len(valkeys) == 1
    assert exit_code == 0, output
    assert processes_in(tmp_path / "valkey") == []
