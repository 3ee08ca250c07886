"""Shared by the wrk benchmarks: the server process, agent registration, /proc CPU accounting, machine facts."""

# ruff: noqa: S603 - a benchmark runs local tools (wrk, git, lscpu, spotopt) by design
from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin-token-" + secrets.token_hex(16)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spotopt_command() -> list[str]:
    """``spotopt`` of this interpreter's environment."""
    script = Path(sys.executable).with_name("spotopt")
    return [str(script)] if script.exists() else [sys.executable, "-m", "spotopt.entrypoints.cli.main"]


def start_server(
    database_url: str | None, data_dir: Path, serve_args: list[str]
) -> tuple[subprocess.Popen[bytes], str, str]:
    """``spotopt serve`` with background jobs off and the agent rate limit lifted (100 agents share one token)."""
    port = free_port()
    env = {
        **os.environ,
        "SPOTOPT_DATA_DIR": str(data_dir),
        "ENABLE_BACKGROUND_JOBS": "false",
        "SPOTOPT_ADMIN_TOKEN": ADMIN,
        "SPOTOPT_AGENT_RATE_LIMIT": "1000000000",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    env.pop("REDIS_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
        subprocess.run([*spotopt_command(), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    else:
        env.pop("DATABASE_URL", None)
    log = (data_dir / "server.log").open("wb")
    server = subprocess.Popen([*spotopt_command(), "serve", *serve_args], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {(data_dir / 'server.log').read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code in (200, 503):
                return server, base, ADMIN
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def register_agents(base: str, admin: str, agents: int) -> tuple[str, list[tuple[str, str]]]:
    """One client, ``agents`` agents registered through A1 with the agent v4 body."""
    with httpx.Client(base_url=base, timeout=30) as client:
        created = client.post(
            "/api/admin/clients/create",
            json={"name": f"bench-{secrets.token_hex(4)}", "max_agents": agents},
            headers={"Authorization": f"Bearer {admin}"},
        )
        created.raise_for_status()
        token = created.json()["client_token"]
        ids = []
        for n in range(agents):
            instance = f"i-{secrets.token_hex(3)[:5]}{n:012x}"
            body = {
                "client_token": token, "hostname": f"ip-10-0-0-{n}", "instance_id": instance,
                "instance_type": "t3.medium", "region": "us-east-1", "az": "us-east-1a",
                "ami_id": "ami-0c55b159cbfafe1f0", "agent_version": "4.0.0", "logical_agent_id": f"bench-{n}",
                "mode": "spot", "private_ip": f"10.0.0.{n}", "public_ip": None,
            }  # fmt: skip
            answer = client.post("/api/agents/register", json=body, headers={"Authorization": f"Bearer {token}"})
            answer.raise_for_status()
            ids.append((answer.json()["agent_id"], instance))
        return token, ids


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on; comm may contain spaces


def process_tree(root: int) -> set[int]:
    """``root`` and every descendant (worker processes of ``spotopt serve --workers N``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: set[int]) -> float:
    """utime + stime of the live processes (and of their reaped children)."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return total / CLOCK_TICKS


def mariadb_pids() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in {"mariadbd", "mysqld"}:
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    model = "unknown CPU"
    lscpu = shutil.which("lscpu")
    if lscpu:
        out = subprocess.run([lscpu], capture_output=True, text=True, check=False).stdout
        if found := re.search(r"Model name:\s*(.+)", out):
            model = found.group(1).strip()
    return f"{model}, {os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}"


def versions(database_url: str | None) -> str:
    parts = [f"spotopt {metadata.version('spotopt')}", f"Python {sys.version.split()[0]}"]
    git = shutil.which("git") or "/usr/bin/git"
    commit = subprocess.run(
        [git, "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(
        [
            git,
            "-C",
            str(ROOT),
            "status",
            "--porcelain",
            "src",
            ":!src/spotopt/entrypoints/simulator",
            ":!src/spotopt/entrypoints/cli/simulate.py",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    parts.append(f"commit {commit.stdout.strip()}{' (src modified)' if dirty.stdout.strip() else ''}")
    parts.extend(
        f"{package} {metadata.version(package)}" for package in ("litestar", "uvicorn", "sqlalchemy", "asyncmy")
    )
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
        parts.append((out.stdout or out.stderr).split("[")[0].strip())
    if database_url and database_url.startswith("mysql"):
        mariadb = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        out = subprocess.run([mariadb, "--version"], capture_output=True, text=True, check=False).stdout
        parts.append(out.split(" for ")[0].replace("/usr/sbin/", "").strip() or "mariadb ?")
    return ", ".join(parts)


def database_label(database_url: str | None) -> str:
    if not database_url:
        return "embedded SQLite (fresh file)"
    return re.sub(r"//[^@/]*@", "//", database_url)


class DatabaseThreads:
    """CPU of the MariaDB threads that serve one database's connections (one thread per connection).

    MariaDB is shared with other work, so the whole ``mariadbd`` CPU over a run is only an upper bound. While
    ``watch()`` runs, this polls ``information_schema.PROCESSLIST`` (its ``TID`` is the Linux thread id) every
    0.25 s and remembers every thread that served a connection to ``database``; ``cpu_seconds()`` is the CPU those
    threads used since ``start()`` (threads that appeared later count from 0 or from their value at the start).
    """

    def __init__(self, database_url: str | None) -> None:
        self.database = None
        if database_url and database_url.startswith("mysql"):
            self.database = database_url.rsplit("/", 1)[1].split("?")[0]
        self._pids = mariadb_pids()
        self._start: dict[int, float] = {}
        self._seen: set[int] = set()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    def _thread_cpu(self) -> dict[int, float]:
        cpu = {}
        for pid in self._pids:
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    raw = (task / "stat").read_text()
                except OSError:
                    continue
                fields = raw[raw.rindex(")") + 2 :].split()
                cpu[int(task.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        return cpu

    def _poll(self) -> None:
        import pymysql

        connection = pymysql.connect(host="127.0.0.1", user="root", port=3306, autocommit=True)
        try:
            with connection.cursor() as cursor:
                while not self._stop.is_set():
                    cursor.execute("SELECT TID FROM information_schema.PROCESSLIST WHERE DB = %s", (self.database,))
                    self._seen.update(int(row[0]) for row in cursor.fetchall())
                    self._stop.wait(0.25)
        finally:
            connection.close()

    def start(self) -> None:
        if self.database is None:
            return
        self._start, self._seen = self._thread_cpu(), set()
        self._stop.clear()
        self._poller = threading.Thread(target=self._poll, daemon=True)
        self._poller.start()

    def cpu_seconds(self) -> float:
        """Stops watching; the CPU of every thread seen serving the database since ``start()``."""
        if self._poller is None:
            return 0.0
        self._stop.set()
        self._poller.join()
        self._poller = None
        now = self._thread_cpu()
        return sum(now.get(tid, 0.0) - self._start.get(tid, 0.0) for tid in self._seen if tid in now)
